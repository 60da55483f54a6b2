"""An index on flow_run.ended_at, for the retention service

The retention service looks for finished runs whose end is older than the
retention, oldest first; without the index every pass reads the whole table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flow_run_ended_at"), ["ended_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_run_ended_at"))
