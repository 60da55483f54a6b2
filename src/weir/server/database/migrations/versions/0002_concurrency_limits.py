"""Concurrency limits on task tags, and the slots task runs hold

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "concurrency_limit",
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("slot_limit", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("updated", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_limit")),
        sa.UniqueConstraint("tag", name=op.f("uq_concurrency_limit_tag")),
    )
    op.create_table(
        "concurrency_slot",
        sa.Column("task_run_key", sa.String(length=500), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=False),
        sa.Column("acquired", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag"],
            ["concurrency_limit.tag"],
            name=op.f("fk_concurrency_slot_tag_concurrency_limit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flow_run_id"],
            ["flow_run.id"],
            name=op.f("fk_concurrency_slot_flow_run_id_flow_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_run_key", "tag", name=op.f("pk_concurrency_slot")),
    )
    with op.batch_alter_table("concurrency_slot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concurrency_slot_tag"), ["tag"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_concurrency_slot_flow_run_id"), ["flow_run_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("concurrency_slot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concurrency_slot_flow_run_id"))
        batch_op.drop_index(batch_op.f("ix_concurrency_slot_tag"))
    op.drop_table("concurrency_slot")
    op.drop_table("concurrency_limit")
