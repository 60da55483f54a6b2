"""Task-run state history kept in the task run's row

The engine reports thousands of task runs a second, each taking two or three
states. One row per state made every task run cost three inserts; the history
now lives in ``task_run.history`` (a JSON list, oldest first), and
``task_run.started_at`` keeps when the task run first went Running. The rows of
``task_run_state`` move into the lists, and back on downgrade.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 05:00:00.000000
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(astext_type=sa.Text(), none_as_null=True), "postgresql"
)

_task_run = sa.table(
    "task_run",
    sa.column("id", sa.Uuid()),
    sa.column("history", _JSON),
    sa.column("started_at", sa.Double()),
)
_task_run_state = sa.table(
    "task_run_state",
    sa.column("task_run_id", sa.Uuid()),
    sa.column("version", sa.Integer()),
    sa.column("type", sa.String(20)),
    sa.column("message", sa.Text()),
    sa.column("timestamp", sa.Double()),
    sa.column("start_time", sa.Double()),
    sa.column("run_count", sa.Integer()),
    sa.column("data", _JSON),
)
_STATE_COLUMNS = ("type", "message", "timestamp", "start_time", "run_count")


def upgrade() -> None:
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("history", _JSON, nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.Double(), nullable=True))
    bind = op.get_bind()
    histories: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    started: dict[Any, float] = {}
    rows = bind.execute(
        sa.select(_task_run_state).order_by(
            _task_run_state.c.task_run_id, _task_run_state.c.version
        )
    )
    for row in rows:
        state = {c: getattr(row, c) for c in _STATE_COLUMNS if getattr(row, c) is not None}
        state.update(row.data or {})
        histories[row.task_run_id].append({"version": row.version, "state": state})
        if row.type == "Running":
            started.setdefault(row.task_run_id, row.timestamp)
    update = (
        sa.update(_task_run)
        .where(_task_run.c.id == sa.bindparam("b_id"))
        .values(history=sa.bindparam("b_history"), started_at=sa.bindparam("b_started"))
    )
    params = [
        {"b_id": run_id, "b_history": entries, "b_started": started.get(run_id)}
        for run_id, entries in histories.items()
    ]
    if params:
        bind.execute(update, params)
    bind.execute(sa.update(_task_run).where(_task_run.c.history.is_(None)).values(history=[]))
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.alter_column("history", existing_type=_JSON, nullable=False)
    with op.batch_alter_table("task_run_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_run_state_task_run_id_version"))
    op.drop_table("task_run_state")


def downgrade() -> None:
    bind = op.get_bind()
    rows = []
    for run_id, history in bind.execute(sa.select(_task_run.c.id, _task_run.c.history)):
        for entry in history or []:
            state = dict(entry["state"])
            row = {c: state.pop(c, None) for c in _STATE_COLUMNS}
            row.update(task_run_id=run_id, version=entry["version"], data=state or None)
            rows.append(row)
    # Columns first: on SQLite dropping them rebuilds task_run, which would take the
    # rows of a task_run_state table already referring to it along (ON DELETE CASCADE).
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_column("started_at")
        batch_op.drop_column("history")
    op.create_table(
        "task_run_state",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("task_run_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("timestamp", sa.Double(), nullable=False),
        sa.Column("start_time", sa.Double(), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=True),
        sa.Column("data", _JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["task_run_id"],
            ["task_run.id"],
            name=op.f("fk_task_run_state_task_run_id_task_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_run_state")),
    )
    with op.batch_alter_table("task_run_state", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_task_run_state_task_run_id_version"),
            ["task_run_id", "version"],
            unique=False,
        )
    if rows:
        bind.execute(sa.insert(_task_run_state), rows)
