"""A flow run whose server stops and comes back mid-run finishes with nothing lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from weir.client import Client
from weir.server.database.engine import Database
from weir.server.testing import clear
from weir.utilities.waiting import wait_until

from .conftest import Harness, make_server

pytestmark = pytest.mark.integration

LOGGING_CHAIN = """
import logging, time
from weir import Flow, task

@task
def step(x):
    time.sleep(0.1)
    logging.getLogger("weir.task_run").info("step %d", x)
    return x + 1

with Flow("slow") as flow:
    x = step(0)
    for _ in range(30):
        x = step(x)
"""


def test_a_server_restart_mid_run_loses_nothing(database: Database, tmp_path: Path) -> None:
    clear(database)
    first = make_server(database)
    first.__enter__()
    port = first.port
    with Client(first.url, retries=8, backoff=0.1) as client:
        harness = Harness(client, tmp_path, tmp_path / "home")
        ids = harness.register(LOGGING_CHAIN)
        run = client.create_flow_run(flow_id=ids["slow"])
        proc = harness.start(run.id)
        wait_until(lambda: client.get_flow_run(run.id).state.type.value == "Running", 20)
        time.sleep(0.5)
        first.__exit__(None, None, None)
        time.sleep(1.5)  # the run goes on; its reports wait in its buffers
        with make_server(database, port=port):
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0, out
            final = client.get_flow_run(run.id)
            assert final.state.type.value == "Success", final.state
            task_runs = client.list_task_runs(run.id)
            assert len(task_runs) == 31
            assert all(t.state.type.value == "Success" for t in task_runs)
            logs = [e.message for e in client.get_logs(run.id).logs if e.message.startswith("step")]
            assert sorted(logs) == sorted(f"step {i}" for i in range(31))
