"""The database made unwritable mid-run: 503s and one line, then the run goes on.

A real ``weir server start``, a run in flight through ``weir execute flow-run``,
and the database made unwritable for a few seconds: on SQLite its files made
immutable (``chattr +i``: root ignores file modes), on PostgreSQL its role's
sessions made read-only. The server must answer 503 meanwhile (a write to
SQLite's mapped WAL index was a SIGBUS that killed it), say so once, and the run
must end Success with every task run and log line stored exactly once.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.execution.conftest import Harness

from weir.client import Client
from weir.server.testing import POSTGRES_URL, free_port, postgres_available

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ITEMS = 30

SLOW_MAP = f"""
import logging, time
from weir import Flow, task


@task
def items():
    return list(range({ITEMS}))

@task
def work(i):
    time.sleep(0.2)
    logging.getLogger("weir.task_run").info("item %d done", i)
    return i

with Flow("slow-map") as flow:
    work.map(items())
"""


def _chattr(flag: str, files: list[str]) -> bool:
    return subprocess.run(["chattr", flag, *files], capture_output=True).returncode == 0


class Sqlite:
    """An SQLite database whose files are made immutable (``chattr +i``)."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "weir.db")
        self.url = f"sqlite:///{self.path}"
        self.env: dict[str, str] = {}
        probe = tmp_path / "probe"
        probe.touch()
        if not _chattr("+i", [str(probe)]):
            pytest.skip("This file system cannot make a file immutable (chattr +i).")
        _chattr("-i", [str(probe)])

    def unwritable(self) -> None:
        assert _chattr("+i", glob.glob(f"{self.path}*"))

    def writable(self) -> None:
        _chattr("-i", glob.glob(f"{self.path}*"))

    def close(self) -> None:
        self.writable()


class Postgres:
    """A PostgreSQL schema the server reaches as a role of its own, made read-only
    (``default_transaction_read_only``) and its sessions ended, so the new ones are."""

    def __init__(self) -> None:
        if not postgres_available():
            pytest.skip("PostgreSQL is not reachable.")
        self.name = f"weir_fault_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        self._sql(f'CREATE ROLE "{self.name}" LOGIN SUPERUSER')
        self._sql(f'CREATE SCHEMA "{self.name}"')
        self.url = make_url(POSTGRES_URL).set(username=self.name).render_as_string(False)
        self.env = {"WEIR_DATABASE_SCHEMA": self.name}

    def _sql(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(statement))

    def _end_sessions(self) -> None:
        self._sql(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{self.name}'"
        )

    def unwritable(self) -> None:
        self._sql(f'ALTER ROLE "{self.name}" SET default_transaction_read_only = on')
        self._end_sessions()

    def writable(self) -> None:
        self._sql(f'ALTER ROLE "{self.name}" RESET default_transaction_read_only')
        self._end_sessions()

    def close(self) -> None:
        self.writable()
        self._sql(f'DROP SCHEMA "{self.name}" CASCADE')
        self._sql(f'DROP ROLE "{self.name}"')
        self.admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    database = Sqlite(tmp_path) if request.param == "sqlite" else Postgres()
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "weir", "server", "start", "--port", str(port)]
            + ["--database-url", database.url, "--no-services"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **database.env, "WEIR_HOME": str(tmp_path / "home")},
        )
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        with Client(url, retries=60, backoff=0.25) as client:
            client.request("GET", "health")
        yield url, log, proc, database
    finally:
        proc.terminate()
        proc.wait(30)
        database.close()


def test_an_unwritable_database_is_a_pause_not_a_crash(server, tmp_path: Path) -> None:
    url, log, proc, database = server
    with Client(url) as client:
        harness = Harness(client, tmp_path, tmp_path / "home")
        run = client.create_flow_run(flow_id=harness.register(SLOW_MAP)["slow-map"])
        runner = harness.start(run.id)
        time.sleep(2)  # the run under way: its first task runs and lines are written
        database.unwritable()
        try:
            time.sleep(4)
            assert proc.poll() is None, log.read_text()[-3000:]
        finally:
            database.writable()
        assert proc.poll() is None, log.read_text()[-3000:]
        out, _ = runner.communicate(timeout=120)
        assert runner.returncode == 0, out

        final = client.get_flow_run(run.id)
        assert final.state.type.value == "Success", final.state
        task_runs = client.list_task_runs(run.id)
        assert len(task_runs) == ITEMS + 2  # items, work, and work's children
        assert all(t.state.type.value in ("Success", "Mapped") for t in task_runs)
        lines = [line.message for line in client.get_logs(run.id, limit=1000).logs]
        assert sorted(m for m in lines if m.endswith(" done")) == sorted(
            f"item {i} done" for i in range(ITEMS)
        )

    text = log.read_text()
    assert '" 503 ' in text  # the run's requests were answered "not now" meanwhile
    assert '" 500 ' not in text
    assert text.count("cannot be used") == 1, text[-3000:]
    assert "is back" in text
    assert "Fatal Python error" not in text
