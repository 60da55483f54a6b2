"""Task runs keep the name their task's ``task_run_name`` made

Prefect 1 names a task run from its task's ``task_run_name`` (a template or a
callable given the inputs), and its UI shows that name: ``load-orders`` and
``load-customers`` for two children of one mapped task. The engine made the
name but kept it to itself. ``task_run.name`` holds it (NULL for a task with no
``task_run_name``). A nullable column with no default: added without rewriting
the table on either database.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 19:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("task_run", sa.Column("name", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_column("name")
