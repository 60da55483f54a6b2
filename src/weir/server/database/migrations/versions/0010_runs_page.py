"""The runs page's keyset indexes, and agents that say they stopped

The runs page lists every run newest first and pages by (created, id): the
index on ``created`` alone left the database sorting the ties, and a page of
runs in one state (often rare, as failures are) walked the whole table; both
keys now have an index that answers a page by reading it. An agent's
``stopped_at`` lets the UI tell an agent stopped on purpose from one gone silent.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_run_created"))
        batch_op.create_index(batch_op.f("ix_flow_run_created_id"), ["created", "id"])
        batch_op.create_index(
            batch_op.f("ix_flow_run_state_type_created_id"), ["state_type", "created", "id"]
        )
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stopped_at", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_column("stopped_at")
    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_run_state_type_created_id"))
        batch_op.drop_index(batch_op.f("ix_flow_run_created_id"))
        batch_op.create_index(batch_op.f("ix_flow_run_created"), ["created"])
