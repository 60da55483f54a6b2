"""A flow run's attempt: the fence that keeps a taken-over process from writing

Every claim gives the run a new attempt number. The process an agent starts
for the run carries it on every write; the server refuses writes from an older
attempt (409, ``"field": "attempt"``), so a process whose run was rescheduled
and claimed again cannot overwrite what the new one does. Existing runs start
at 0, which is also what a claim-less run (``weir execute`` by hand) keeps.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 23:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases, never a table rebuild: on SQLite, rebuilding
# flow_run drops the old table, and its cascades would delete every run's task runs.


def upgrade() -> None:
    # The server default fills the existing rows.
    op.add_column(
        "flow_run",
        sa.Column("attempt", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )


def downgrade() -> None:
    # SQLite has ALTER TABLE ... DROP COLUMN since 3.35 (a column in no index or constraint).
    op.execute(sa.text("ALTER TABLE flow_run DROP COLUMN attempt"))
