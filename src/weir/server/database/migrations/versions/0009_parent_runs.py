"""Parent runs: the run (and task run) that started a flow run, for flows of flows

A plain indexed column, no foreign key: SQLite cannot drop a column a foreign key
uses, and rebuilding flow_run instead would cascade-delete every task run (see
0006). A parent deleted later leaves its children a dangling id, which readers
treat as "no parent".

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 03:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("flow_run", sa.Column("parent_flow_run_id", sa.Uuid(), nullable=True))
    op.add_column("flow_run", sa.Column("parent_task_run_id", sa.Uuid(), nullable=True))
    op.create_index(
        op.f("ix_flow_run_parent_flow_run_id"), "flow_run", ["parent_flow_run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_flow_run_parent_flow_run_id"), table_name="flow_run")
    # SQLite has ALTER TABLE ... DROP COLUMN since 3.35 (a column in no index or constraint).
    op.execute(sa.text("ALTER TABLE flow_run DROP COLUMN parent_task_run_id"))
    op.execute(sa.text("ALTER TABLE flow_run DROP COLUMN parent_flow_run_id"))
