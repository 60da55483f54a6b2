"""Helpers to run a real weir server in tests: a throwaway database and a live uvicorn.

``temporary_database("sqlite" | "postgresql")`` yields a migrated Database of
its own (an SQLite file in a temporary directory, or a fresh PostgreSQL schema
dropped afterwards). ``LiveServer`` serves an app on a free loopback port in a
background thread. ``send_raw`` sends a request through a plain socket, body
chunk by chunk, and stops sending as soon as the server answers: it shows
whether a server refused a body without waiting for it. Tests wait for
something to hold with ``weir.utilities.waiting.wait_until``, as ``LiveServer`` does.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import httpx
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from weir.server.database.engine import Database
from weir.server.database.migrate import upgrade
from weir.server.database.orm import Base
from weir.utilities.waiting import wait_until

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
    # DELETE, children first, on PostgreSQL too: on tables this small it takes a few
    # milliseconds where TRUNCATE takes a third of a second (it makes new files for
    # every table), and the server's tests clear their database before every test.
    with db.session(write=True) as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())


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


def wait_healthy(
    process: subprocess.Popen[Any], api_url: str, *, timeout: float = 120, interval: float = 0.02
) -> None:
    """Wait until the server ``process`` answers 200 at ``{api_url}/health``.

    RuntimeError (with what it wrote, when its stderr is a pipe) if it exits first;
    TimeoutError after ``timeout`` seconds.
    """
    with httpx.Client(timeout=1) as http:

        def healthy() -> bool:
            try:
                if http.get(f"{api_url}/health").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                said = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"The server exited with code {process.returncode}. {said}")
            return False

        why = f"The server at {api_url} did not answer /health."
        wait_until(healthy, timeout, why, interval=interval)


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
        wait_until(
            lambda: self.server.started or not self._thread.is_alive(),
            30,
            interval=0.01,
            why=f"The test server on port {self.port} did not start.",
        )
        if not self.server.started:
            raise RuntimeError(f"The test server on port {self.port} did not start.")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(10)


def send_raw(
    port: int, method: str, path: str, headers: dict[str, str], chunks: Iterable[bytes]
) -> tuple[int, dict[str, Any], int]:
    """Send a request to 127.0.0.1:port; (status, decoded JSON answer, body bytes sent).

    The body's chunks are sent until they run out or the server answers, whichever
    comes first; ``headers`` should say how long the body is (Content-Length) or
    that it is chunked (see ``chunked``).
    """
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head.encode())
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # answered before the body was all sent
            try:
                sock.sendall(chunk)
            except OSError:  # the server closed the connection after answering
                break
            sent += len(chunk)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        head_bytes, _, body = answer.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        fields = dict(line.lower().split(": ", 1) for line in lines[1:])
        while len(body) < int(fields["content-length"]):
            body += sock.recv(65536)
    return int(lines[0].split()[1]), json.loads(body), sent


def chunked(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` in HTTP's chunked transfer coding."""
    for chunk in chunks:
        yield b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    yield b"0\r\n\r\n"
