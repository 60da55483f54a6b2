"""Alembic environment: runs on the connection weir hands it (see ``migrate.py``)."""

from __future__ import annotations

from alembic import context

from weir.server.database.orm import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables when a migration needs to.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
