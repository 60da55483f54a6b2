"""Task-run batches taken at once and written into task runs later

The engine's task-run batches may be sent with ``wait=false``: the server
validates the batch, stores its body in ``task_run_batch`` and answers, and the
task runs are written from there before anything reads them (see
``weir.server.models.task_run_batches``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_run_batch",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("received", sa.Double(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_run_batch")),
    )


def downgrade() -> None:
    # Batches not yet written would be lost with the table.
    left = op.get_bind().execute(sa.text("SELECT count(*) FROM task_run_batch")).scalar()
    if left:
        raise RuntimeError(
            f"task_run_batch holds {left} task-run batches not yet written into task runs; "
            "start the server for a moment (it writes them) and downgrade again."
        )
    op.drop_table("task_run_batch")
