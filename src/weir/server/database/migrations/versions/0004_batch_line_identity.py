"""An identity for log lines and trace events, so that a batch sent twice is stored once

A reporter whose batch was committed but whose answer was lost sends the batch
again. Each line may now carry ``sender_id`` (one per reporter) and ``seq`` (its
number among that sender's lines); a unique index on the pair lets the server
skip the lines it already has. Rows written before, and lines sent without an
identity, keep NULL in both columns, which never collide.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 08:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = ("log", "trace_event")


def upgrade() -> None:
    for table in _TABLES:
        # Nullable columns and an index: ALTER TABLE on both databases, no table rebuild.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("sender_id", sa.Uuid(), nullable=True))
            batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
            batch_op.create_index(
                batch_op.f(f"ix_{table}_sender_id_seq"), ["sender_id", "seq"], unique=True
            )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_sender_id_seq"))
            batch_op.drop_column("seq")
            batch_op.drop_column("sender_id")
