"""The whole path as a user drives it: `weir register`, `weir agent start`, `weir run --watch`.

A real server (SQLite and PostgreSQL), a real agent process, the CLI in
subprocesses. A flow with Parameters, mapping and a retry reaches Success, and
the server holds every task run, log line and trace event.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from weir.client import Client

pytestmark = pytest.mark.integration

ETL = """
import datetime
from pathlib import Path
from weir import Flow, Parameter, context, task, unmapped

HERE = Path(__file__).parent

@task(max_retries=1, retry_delay=datetime.timedelta(seconds=0.2))
def extract(n):
    marker = HERE / "extract-failed-once"
    if not marker.exists():
        marker.write_text("")
        raise ConnectionError("the source timed out")
    context.get_logger().info("extracted %d rows", n)
    return list(range(n))

@task
def scale(x, factor):
    context.get_logger().info("row %d scaled", x)
    return x * factor

@task
def load(rows):
    context.get_logger().info("loaded %d rows", len(rows))
    return sum(rows)

with Flow("e2e-etl") as flow:
    n = Parameter("n", default=2)
    factor = Parameter("factor", default=10)
    total = load(scale.map(extract(n), factor=unmapped(factor)))
"""


def weir(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "weir", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_register_agent_and_run_from_the_cli(client: Client, tmp_path: Path) -> None:
    script = tmp_path / "etl.py"
    script.write_text(textwrap.dedent(ETL))
    env = {
        **os.environ,
        "WEIR_API_URL": client.api_url,
        "WEIR_HOME": str(tmp_path / "home"),
        "COLUMNS": "200",
    }
    registered = weir("register", str(script), env=env)
    assert registered.returncode == 0, registered.stdout + registered.stderr
    assert "e2e-etl" in registered.stdout

    agent = subprocess.Popen(
        [sys.executable, "-m", "weir", "agent", "start", "--name", "e2e-agent"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        watched = weir("run", "e2e-etl", "--param", "n=4", "--watch", env=env, timeout=120)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent_out, _ = agent.communicate(timeout=60)
    assert watched.returncode == 0, watched.stdout + watched.stderr + agent_out
    assert "Success" in watched.stdout
    assert "loaded 4 rows" in watched.stdout

    (run,) = client.list_flow_runs(full=True)
    assert run.state.type.value == "Success"
    assert run.parameters == {"n": 4, "factor": 10}
    states = {(t.task_slug, t.map_index): t.state.type.value for t in client.list_task_runs(run.id)}
    assert states == {
        ("n", -1): "Success",
        ("factor", -1): "Success",
        ("extract-1", -1): "Success",
        ("scale-1", -1): "Mapped",
        **{("scale-1", k): "Success" for k in range(4)},
        ("load-1", -1): "Success",
    }
    logs = [entry.message for entry in client.get_logs(run.id).logs]
    assert "extracted 4 rows" in logs and "loaded 4 rows" in logs
    assert sorted(m for m in logs if m.startswith("row")) == [f"row {k} scaled" for k in range(4)]
    assert any("the source timed out" in m for m in logs)  # the failed first attempt

    kinds = [e.kind for e in client.get_trace(run.id)]
    expected_order = [
        "created",
        "claimed",
        "process_launched",
        "process_started",
        "flow_loaded",
        "flow_run_started",
        "executor_started",
        "task_retry_scheduled",
        "flow_run_finished",
        "process_exited",
    ]
    positions = [kinds.index(kind) for kind in expected_order]
    assert positions == sorted(positions), list(zip(expected_order, positions, strict=True))
    # extract twice (its retry), the four children of scale, load; scale itself expands.
    assert kinds.count("task_submitted") == 2 + 4 + 1
    # Read off the task runs' states, once each: every Running, every finished state
    # (the two parameters, extract, the four children, scale's Mapped and load).
    assert kinds.count("task_started") == 2 + 4 + 1
    assert kinds.count("task_finished") == 2 + 1 + 4 + 1 + 1
    assert kinds.count("task_mapped") == 1
