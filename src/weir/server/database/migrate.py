"""Apply the Alembic migrations shipped inside the package (works from an installed wheel)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from weir.server.database.engine import Database

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every weir process.
_PG_MIGRATION_LOCK = 0x77E1_2001


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database schema to ``revision``; safe when several processes start at once."""
    _migrate(db, command.upgrade, revision)


def downgrade(db: Database, revision: str) -> None:
    """Take the database schema back to ``revision`` (data moves with it where it can)."""
    _migrate(db, command.downgrade, revision)


def _migrate(db: Database, step: Callable[[Config, str], None], revision: str) -> None:
    config = alembic_config()
    # The write engine begins with BEGIN IMMEDIATE on SQLite and takes an advisory
    # lock on PostgreSQL, so two servers starting together migrate one after the other.
    with db.write_engine.begin() as connection:
        if not db.is_sqlite:
            if db.schema:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
                connection.execute(text(f'SET search_path TO "{db.schema}"'))
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = connection
        step(config, revision)
    logger.debug("Database %s: schema at %s.", db.url, revision)
