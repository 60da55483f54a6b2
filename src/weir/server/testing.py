"""Helpers to run a real weir server in tests: a throwaway database and a live uvicorn.

``temporary_database("sqlite" | "postgresql")`` yields a migrated Database of
its own (an SQLite file in a temporary directory, or a fresh PostgreSQL schema
dropped afterwards). ``LiveServer`` serves an app on a free loopback port in a
background thread.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from weir.server.database.engine import Database
from weir.server.database.migrate import upgrade
from weir.server.database.orm import Base

#: Where tests find PostgreSQL; a new schema is made in it for every temporary database.
POSTGRES_URL = os.environ.get(
    "WEIR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def missing(what: str, how: str) -> NoReturn:
    """A test needs ``what``, which this machine lacks: skip, saying ``how`` to get it.

    Under ``WEIR_REQUIRE_ENGINES=1`` (``.ci/run`` sets it) the test fails instead, so
    a CI machine that lost an engine, a browser or its database says so loudly.
    """
    import pytest

    message = f"{what} is not available here; {how}"
    if os.environ.get("WEIR_REQUIRE_ENGINES", "") not in ("", "0"):
        pytest.fail(f"{message} (WEIR_REQUIRE_ENGINES is set, so this fails, not skips).")
    pytest.skip(message)


def require_postgres() -> None:
    """Skip (or, under ``WEIR_REQUIRE_ENGINES=1``, fail) a test when PostgreSQL is away."""
    if not postgres_available():
        missing(
            f"PostgreSQL at {POSTGRES_URL}",
            "start one with trust auth and a database `test` (as `.ci/run` does), "
            "or point WEIR_TEST_POSTGRES_URL at one.",
        )


def postgres_available(url: str = POSTGRES_URL) -> bool:
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except (SQLAlchemyError, ImportError):
        return False
    return True


@contextmanager
def temporary_database(backend: str) -> Iterator[Database]:
    """A migrated database nobody else uses, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="weir-test-") as directory:
            db = Database(f"sqlite:///{Path(directory) / 'weir.db'}")
            upgrade(db)
            try:
                yield db
            finally:
                db.dispose()
        return
    schema = f"weir_test_{uuid.uuid4().hex[:12]}"
    db = Database(POSTGRES_URL, schema=schema)
    upgrade(db)
    try:
        yield db
    finally:
        db.dispose()
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def clear(db: Database) -> None:
    """Delete every row of weir's tables (not the migration bookkeeping)."""
    with db.session(write=True) as session:
        if db.is_sqlite:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
        else:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            session.execute(text(f"TRUNCATE {names} CASCADE"))


def store_flow_unchecked(db: Database, serialized_flow: dict[str, Any]) -> uuid.UUID:
    """A flow version written straight to the database, past registration's checks.

    As a row stored before those checks existed would be: for tests of what the
    services do with data registration would refuse today.
    """
    from weir.server.database import orm
    from weir.server.models import projects

    with db.session(write=True) as session:
        project = projects.get_or_create(session, "default")
        flow = orm.Flow(
            project_id=project.id,
            name=serialized_flow["name"],
            version=1,
            fingerprint=uuid.uuid4().hex,
            serialized_flow=serialized_flow,
            labels=[],
            archived=False,
            schedule_active=True,
        )
        session.add(flow)
        session.flush()
        return flow.id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """An app served by uvicorn on 127.0.0.1 in a thread; ``url`` ends in ``/api/v1``."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, name="weir-live-server", daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The test server on port {self.port} did not start.")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(10)
