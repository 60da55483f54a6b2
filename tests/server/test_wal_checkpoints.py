"""SQLite's WAL is copied into the database file by the server's own thread, not by commits."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from fastapi.testclient import TestClient

from weir.schemas import actions
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.database.wal import WalCheckpointer
from weir.server.models import flows
from weir.server.settings import ServerSettings
from weir.server.testing import require_postgres, temporary_database
from weir.utilities.waiting import wait_until


def _flows_in_file(path: str) -> int:
    """Flows the database file holds by itself (immutable: the WAL is not read)."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as file_only:
        return int(file_only.execute("SELECT count(*) FROM flow").fetchone()[0])


def _register(db: Database, name: str) -> None:
    with db.session(write=True) as session:
        flows.register(session, actions.FlowCreate(serialized_flow={"name": name}))


def test_writes_reach_the_database_file_without_a_commit_checkpointing() -> None:
    with temporary_database("sqlite") as db:
        path = db.sqlite_path
        assert path is not None
        with sqlite3.connect(path) as start:  # the migrations' tables into the file first
            start.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = _flows_in_file(path)
        _register(db, "kept-in-the-log")
        # A small write stays in the log: no commit has reason to checkpoint it.
        assert _flows_in_file(path) == before
        checkpointer = WalCheckpointer(path, interval=0.05).start()
        try:
            wait_until(lambda: _flows_in_file(path) != before, 10, "never checkpointed")
            # The thread counts a checkpoint once its PRAGMA returns, a moment after the
            # file changed: wait for the count rather than read it in that moment.
            wait_until(lambda: checkpointer.checkpoints >= 1, 10, "the checkpoint not counted")
            # Nothing new in the log: the thread leaves the file alone.
            settled = checkpointer.checkpoints
            time.sleep(0.3)
            assert checkpointer.checkpoints == settled
            _register(db, "second")
            wait_until(lambda: _flows_in_file(path) != before + 1, 10, "second never checkpointed")
        finally:
            checkpointer.stop()
        assert _flows_in_file(path) == before + 2


def _checkpoint_threads() -> int:
    return sum(t.name == "weir-wal-checkpoint" for t in threading.enumerate())


@pytest.mark.parametrize(("backend", "threads"), [("sqlite", 1), ("postgresql", 0)])
def test_the_server_checkpoints_while_it_runs_on_sqlite_only(backend: str, threads: int) -> None:
    if backend == "postgresql":
        require_postgres()
    with temporary_database(backend) as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        # Servers other tests left running (session fixtures) have their own threads.
        before = _checkpoint_threads()
        with TestClient(app):
            assert _checkpoint_threads() == before + threads
        assert _checkpoint_threads() == before
