"""An index for the runs page filtered by flow, on a big database

With 100,000 runs the runs page filtered by one flow walked the (created, id)
index past every other flow's runs (all of them for a flow that rarely runs).
``(flow_id, created, id)`` answers a flow's page, however deep, by reading just
that page. It is on flow_run only: task_run, written 100 times as often, gets no
new index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 06:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_flow_run_flow_id_created_id"), ["flow_id", "created", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_run_flow_id_created_id"))
