"""Bring the database schema to the newest revision (works from an installed wheel).

A server starts on a database in one of three conditions, and each costs what it must:

* current (the stored revision is :data:`HEAD_REVISION`): one SELECT, and Alembic
  is not even imported;
* new (no table at all): the ORM's tables are created as they are and the head
  revision stamped, which ``tests/server/test_migrations.py`` proves gives the very
  schema that running every migration gives;
* older: Alembic runs the migrations shipped inside the package.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import Column, Connection, MetaData, PrimaryKeyConstraint, String, Table, text
from sqlalchemy.exc import DBAPIError

from weir.server.database.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

#: The newest migration's revision. A test checks that it is Alembic's head, so that
#: a start can tell a current database without loading the migration scripts.
HEAD_REVISION = "0012"
MIGRATIONS_PACKAGE = "weir.server.database.migrations"
# Any constant works; it only has to be the same in every weir process.
_PG_MIGRATION_LOCK = 0x77E1_2001

#: Alembic's own bookkeeping table, as Alembic creates it.
_VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def alembic_config() -> Config:
    from pathlib import Path

    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def stored_revision(db: Database) -> str | None:
    """The revision the database says it is at; None when it has none (or no schema)."""
    try:
        with db.engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database schema to ``revision``; safe when several processes start at once."""
    if revision in ("head", HEAD_REVISION) and stored_revision(db) == HEAD_REVISION:
        logger.debug("Database %s: schema already at %s.", db.url, HEAD_REVISION)
        return
    _migrate(db, "upgrade", revision)


def downgrade(db: Database, revision: str) -> None:
    """Take the database schema back to ``revision`` (data moves with it where it can)."""
    _migrate(db, "downgrade", revision)


def _migrate(db: Database, step: str, revision: str) -> None:
    # The write engine begins with BEGIN IMMEDIATE on SQLite and takes an advisory
    # lock on PostgreSQL, so two servers starting together migrate one after the other.
    with db.write_engine.begin() as connection:
        if not db.is_sqlite:
            if db.schema:
                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{db.schema}"'))
                connection.execute(text(f'SET search_path TO "{db.schema}"'))
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        if step == "upgrade" and revision in ("head", HEAD_REVISION) and _is_empty(connection):
            create_head_schema(connection)
        else:
            from alembic import command

            config = alembic_config()
            config.attributes["connection"] = connection
            getattr(command, step)(config, revision)
    logger.debug("Database %s: schema at %s.", db.url, revision)


def _is_empty(connection: Connection) -> bool:
    from sqlalchemy import inspect

    return not inspect(connection).get_table_names()


def create_head_schema(connection: Connection) -> None:
    """Create the ORM's tables as they are and stamp the head revision: on an empty
    database, the same schema as running every migration, in a fraction of the time."""
    from weir.server.database.orm import Base

    Base.metadata.create_all(connection)
    _VERSION_TABLE.create(connection)
    connection.execute(_VERSION_TABLE.insert().values(version_num=HEAD_REVISION))
