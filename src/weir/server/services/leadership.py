"""Which server process runs the services: the one holding a PostgreSQL advisory lock.

Any number of ``weir server start`` processes may serve one PostgreSQL database
(schema). The services (scheduler, lazarus, retention, and the batch writer's
sweep for batches other processes left) are idempotent, so two copies would do no
harm, but they would do every pass twice and make "who schedules?" a question with
two answers. So exactly one process leads: the one holding a session-level
advisory lock (``pg_try_advisory_lock``) on a connection of its own, kept for as
long as it leads.

* A follower tries to take the lock every ``retry_seconds``.
* The leader checks its connection every ``check_seconds``; if the check fails
  (the database restarted, the network broke), it stops its services and becomes a
  follower again: the lock went with the connection.
* When the leader's process dies, even by ``kill -9``, its connection closes and
  PostgreSQL releases the lock at once; a follower takes it at its next try. If
  the leader's whole host vanishes, PostgreSQL notices through the TCP keepalives
  set on the lock's connection (about ``_KEEPALIVE_IDLE + _KEEPALIVE_INTERVAL *
  _KEEPALIVE_COUNT`` seconds) and releases the lock then.

Between a lock lost and the old leader's next check, two processes may both run
a pass: harmless, since each service locks what it changes. On SQLite a single
server process is supported (``refuse_second_sqlite_server``), and it always leads.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from weir.exceptions import ConfigurationError
from weir.server.database.engine import Database
from weir.server.services.base import LoopService

logger = logging.getLogger(__name__)

#: Seconds between a follower's tries to take the lock.
RETRY_SECONDS = 2.0
#: Seconds between the leader's checks that its lock's connection is alive.
CHECK_SECONDS = 2.0
#: Server-side TCP keepalives of the lock's connection: a vanished leader host
#: loses the lock after about 5 + 2 * 3 = 11 seconds.
_KEEPALIVE_IDLE = 5
_KEEPALIVE_INTERVAL = 2
_KEEPALIVE_COUNT = 3
#: How the lock's connection shows in ``pg_stat_activity``.
APPLICATION_NAME = "weir services leader"


def lock_key(schema: str | None) -> int:
    """The advisory lock's key for weir's tables in ``schema`` (a signed 64-bit int).

    Advisory locks are per database; the schema is in the key so that several weir
    installations in one database (each with its own schema) each have a leader.
    """
    digest = hashlib.sha256(f"weir services:{schema or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class ServiceSet:
    """Services made anew and started on ``start``, stopped on ``stop``: a leader's."""

    def __init__(self, make: Callable[[], list[LoopService]]) -> None:
        self.make = make
        self.running: list[LoopService] = []

    def start(self) -> None:
        self.running = self.make()
        for service in self.running:
            service.start()

    def stop(self) -> None:
        for service in self.running:
            service.stop()
        self.running = []


class Leadership:
    """A thread that makes this process the services' leader when it can.

    ``on_lead`` is called (in the thread) when this process becomes the leader,
    ``on_follow`` when it stops being one (lock lost, or ``stop``).
    """

    def __init__(
        self,
        db: Database,
        *,
        on_lead: Callable[[], None],
        on_follow: Callable[[], None],
        retry_seconds: float = RETRY_SECONDS,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self.db = db
        self.on_lead = on_lead
        self.on_follow = on_follow
        self.retry_seconds = retry_seconds
        self.check_seconds = check_seconds
        self.key = lock_key(db.schema)
        self._leading = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="weir-leadership", daemon=True)
        #: How often this process asked for the lock (it asks while it follows).
        self.tries = 0
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    @property
    def leading(self) -> bool:
        """Whether this process runs the services now."""
        return self._leading.is_set()

    def start(self) -> Leadership:
        if self.db.is_sqlite:
            # One server per SQLite file: it leads, from the start and for good.
            self._lead()
            return self
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the services (if leading) and give the lock up, so a follower takes over."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        if self.leading:
            self._follow()
        self._release()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception as exc:  # this thread must outlive any step
                # E.g. a service that would not start: never sit on the lock without
                # running the services; give it up, and try again later.
                logger.error("Services leadership failed; giving the lock up.", exc_info=exc)
                if self.leading:
                    self._leading.clear()
                    with contextlib.suppress(Exception):
                        self.on_follow()  # whatever did start, stopped
                self._release()
            self._stop.wait(self.check_seconds if self.leading else self.retry_seconds)

    def _step(self) -> None:
        if not self.leading:
            if self._try_take():
                self._lead()
        elif not self._still_held():
            logger.warning("Lost the services' lock; the services stop here.")
            self._follow()
            self._release()

    def _lead(self) -> None:
        logger.info("This server leads: it runs the services.")
        self._leading.set()
        self.on_lead()

    def _follow(self) -> None:
        self._leading.clear()
        self.on_follow()

    def _try_take(self) -> bool:
        """Take the lock if nobody holds it; the connection is kept either way."""
        self.tries += 1
        try:
            connection = self._connect()
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
        except Exception as exc:  # noqa: BLE001 - the database may be away; try again later
            logger.debug("Could not try the services' lock: %s", exc)
            self._release()
            return False
        return bool(taken)

    def _still_held(self) -> bool:
        """Whether the lock's connection still answers (then the lock is still ours)."""
        try:
            connection = self._connect()
            connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means the session may be gone
            logger.debug("The services' lock connection failed: %s", exc)
            return False
        return True

    def _connect(self) -> Connection:
        if self._connection is not None:
            return self._connection
        if self._engine is None:
            # Not the pool's: the lock lives as long as this one connection, and is
            # released when it closes, not when a pool recycles it.
            self._engine = create_engine(
                self.db.url,
                poolclass=NullPool,
                isolation_level="AUTOCOMMIT",  # never an open transaction while leading
                connect_args={
                    "application_name": APPLICATION_NAME,
                    "connect_timeout": 5,
                    "keepalives": 1,
                    "keepalives_idle": _KEEPALIVE_IDLE,
                    "keepalives_interval": _KEEPALIVE_INTERVAL,
                    "keepalives_count": _KEEPALIVE_COUNT,
                },
            )
        connection = self._engine.connect()
        # The server's side of the same keepalives: it drops a vanished leader's session.
        connection.execute(text(f"SET tcp_keepalives_idle = {_KEEPALIVE_IDLE}"))
        connection.execute(text(f"SET tcp_keepalives_interval = {_KEEPALIVE_INTERVAL}"))
        connection.execute(text(f"SET tcp_keepalives_count = {_KEEPALIVE_COUNT}"))
        self._connection = connection
        return connection

    def _release(self) -> None:
        """Close the lock's connection (which releases the lock, if it was held)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.close()
        except Exception as exc:  # noqa: BLE001 - closing a broken connection may fail
            logger.debug("Closing the services' lock connection failed: %s", exc)


def refuse_second_sqlite_server(db: Database) -> IO[str] | None:
    """On SQLite, make sure no other server process serves the same file; keep the
    returned file open for as long as this server runs (the lock goes with it).

    One SQLite file takes one writer at a time, and this process's writers queue
    on a lock of their own: a second server on the file adds no capacity, only
    contention, so it is refused with a clear error rather than left to compete.
    """
    path = db.sqlite_path
    if path is None:
        return None
    lock_path = Path(f"{path}-server.lock")
    # Private like the database beside it; held open while the server runs.
    handle = os.fdopen(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600), "r+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ConfigurationError(
            f"Another weir server already serves the SQLite database {path}: one server "
            "process per SQLite file. Stop it, give this one its own file "
            "(--database-url sqlite:///OTHER.db), or move to PostgreSQL to run several "
            "servers on one database."
        ) from None
    return handle
