"""The database made unwritable mid-run: 503s and one line, then the run goes on.

A real ``weir server start`` on SQLite, a run in flight through ``weir execute
flow-run``, and the database files made immutable (``chattr +i``: root ignores
file modes) for a few seconds. The server must answer 503 meanwhile (a write to
SQLite's mapped WAL index was a SIGBUS that killed it), say so once, and the run
must end Success with every task run and log line stored exactly once.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.execution.conftest import Harness

from weir.client import Client
from weir.server.testing import free_port

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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    db = tmp_path / "weir.db"
    probe = tmp_path / "probe"
    probe.touch()
    if not _chattr("+i", [str(probe)]):
        pytest.skip("This file system cannot make a file immutable (chattr +i).")
    _chattr("-i", [str(probe)])
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "weir", "server", "start", "--port", str(port)]
            + ["--database-url", f"sqlite:///{db}", "--no-services"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "WEIR_HOME": str(tmp_path / "home")},
        )
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        with Client(url, retries=60, backoff=0.25) as client:
            client.request("GET", "health")
        yield url, log, proc
    finally:
        _chattr("-i", glob.glob(f"{db}*"))
        proc.terminate()
        proc.wait(30)


def test_an_unwritable_database_is_a_pause_not_a_crash(server, tmp_path: Path) -> None:
    url, log, proc = server
    db = str(tmp_path / "weir.db")
    with Client(url) as client:
        harness = Harness(client, tmp_path, tmp_path / "home")
        run = client.create_flow_run(flow_id=harness.register(SLOW_MAP)["slow-map"])
        runner = harness.start(run.id)
        time.sleep(2)  # the run under way: its first task runs and lines are written
        files = glob.glob(f"{db}*")
        assert _chattr("+i", files)
        try:
            time.sleep(4)
            assert proc.poll() is None, log.read_text()[-3000:]
        finally:
            _chattr("-i", files)
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
