"""Engines and sessions: one transaction per request, writes serialized on SQLite.

SQLite allows one writer at a time. Rather than let concurrent writers meet
"database is locked", every write transaction in this process takes one lock
and starts with ``BEGIN IMMEDIATE`` (so a writer in another process makes it
wait on the busy timeout at BEGIN, never fail half-way). Readers use their own
connections and, in WAL mode, never wait for the writer. PostgreSQL needs none
of this: its row locks (and ``FOR UPDATE SKIP LOCKED`` for claims) do the work.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from weir.exceptions import ConfigurationError
from weir.schemas import jsontext
from weir.server.database import pg_text
from weir.server.database.outage import Outage, is_unavailable
from weir.server.database.wal import shm_writable

logger = logging.getLogger(__name__)

#: How long a writer waits for a writer of another process before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 60_000


def normalize_url(url: str) -> str:
    """Pick the drivers weir ships with: psycopg 3 for PostgreSQL, pysqlite for SQLite."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError(
            f"The database URL {url!r} is not a URL; write it as sqlite:///path/to/weir.db "
            "or postgresql+psycopg://user@host/db."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername not in ("postgresql", "postgresql+psycopg"):
            raise ConfigurationError(
                f"The database URL uses driver {parsed.drivername!r}, but weir talks to "
                "PostgreSQL through psycopg 3: write it as postgresql+psycopg://user@host/db."
            )
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    raise ConfigurationError(
        f"weir stores its data in SQLite or PostgreSQL, not {backend!r}; set WEIR_DATABASE_URL "
        "to sqlite:///path/to/weir.db or postgresql+psycopg://user@host/db."
    )


def create_private_file(path: Path) -> None:
    """Make ``path`` (and its directory) readable by this user only, if they are new.

    The database holds flows' parameters, logs and API key hashes; a new directory is
    made 0700 and a new file 0600 (SQLite gives its -wal and -shm files the mode of
    the database). Files that exist keep the mode their owner gave them.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass


#: The key of ``Session.info`` a transaction sets when it makes a run claimable (a new
#: run, or one waiting again): once it commits, ``Database.on_new_work`` is called.
NEW_WORK = "weir_new_work"


class Database:
    """A database weir uses: its URL, engines and the session factory.

    ``session(write=True)`` opens a write transaction (serialized on SQLite),
    ``session()`` a read transaction; both commit on success and roll back on error.
    """

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = make_url(self.url).get_backend_name() == "sqlite"
        self.schema = schema
        self._write_lock = threading.Lock()
        if self.is_sqlite:
            self._prepare_sqlite_file()
            self.engine = self._sqlite_engine(immediate=False, echo=echo)
            self.write_engine = self._sqlite_engine(immediate=True, echo=echo)
        else:
            self.engine = self._postgres_engine(echo=echo)
            self.write_engine = self.engine
        #: Whether the database is away now (logged once per outage; see ``outage``).
        self.outage = Outage(_safe_url(self.url))
        #: Called after a transaction that made a run claimable commits (see NEW_WORK):
        #: the server wakes the claims waiting for work. Set by whoever serves them.
        self.on_new_work: Callable[[], None] = lambda: None
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def write_lock(self) -> threading.Lock:
        """Held by this process's SQLite writers (``session(write=True)``)."""
        return self._write_lock

    @property
    def sqlite_path(self) -> str | None:
        """The SQLite database file (None on PostgreSQL)."""
        return str(Path(make_url(self.url).database or "").expanduser()) if self.is_sqlite else None

    @property
    def dialect(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    def _prepare_sqlite_file(self) -> None:
        database = make_url(self.url).database
        if not database or database == ":memory:":
            raise ConfigurationError(
                "weir needs an SQLite database file shared by its connections, not an in-memory "
                "one; give a path such as sqlite:////tmp/weir.db."
            )
        create_private_file(Path(database).expanduser())

    def _sqlite_engine(self, *, immediate: bool, echo: bool) -> Engine:
        engine = create_engine(
            self.url,
            echo=echo,
            json_serializer=jsontext.dumps_text,
            json_deserializer=jsontext.loads,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=1 if immediate else 8,
            max_overflow=0 if immediate else 16,
            pool_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when a transaction begins.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            # Before any table exists, so that a new database gives freed pages back
            # (see vacuum.py); on an existing one it changes nothing until a VACUUM.
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
            cursor.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode and much faster.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # No memory-mapped reads of the database file, whatever the build's default:
            # an I/O error on a mapped page is a SIGBUS that kills the server, where a
            # read() is an error the API answers with 503.
            cursor.execute("PRAGMA mmap_size=0")
            cursor.close()

        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        path = self.sqlite_path or ""

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            if not shm_writable(path):
                # A transaction would write to the mapped WAL index: a SIGBUS (see wal).
                cause = sqlite3.OperationalError(f"{path}-shm cannot be written")
                raise OperationalError(begin, None, cause)
            connection.exec_driver_sql(begin)

        return engine

    def _postgres_engine(self, *, echo: bool) -> Engine:
        engine = create_engine(
            self.url,
            echo=echo,
            json_serializer=pg_text.dumps_json,  # NUL cleaned (see pg_text)
            json_deserializer=jsontext.loads,
            pool_size=10,
            max_overflow=20,
            pool_pre_ping=True,
        )
        if self.schema:
            schema = self.schema

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute(f'SET search_path TO "{schema}"')
                cursor.close()
                dbapi_connection.commit()

        return engine

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One transaction: commit when the block ends, roll back if it raises."""
        if write and self.is_sqlite:
            with self._write_lock:
                yield from self._transaction(self._write_sessions, write)
        else:
            factory = self._write_sessions if write else self._read_sessions
            yield from self._transaction(factory, write)

    def _transaction(self, factory: sessionmaker[Session], write: bool) -> Iterator[Session]:
        try:
            with factory() as session, session.begin():
                yield session
        except DBAPIError as exc:
            if is_unavailable(exc):
                self.outage.failed(exc)
            raise
        if write:  # reads may go on while writes cannot: only a write says it is back
            self.outage.ok()
        if session.info.get(NEW_WORK):
            self.on_new_work()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
