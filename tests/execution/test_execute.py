"""`weir execute flow-run` against a real server: states, logs, traces, resume, cancel."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from weir.client import Client
from weir.exceptions import ClientError
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, clear
from weir.utilities.waiting import wait_until

from .conftest import Harness

ETL = """
import datetime
from pathlib import Path
from weir import Flow, Parameter, task, unmapped, context

MARKS = Path(__file__).parent / "marks"

@task(max_retries=1, retry_delay=datetime.timedelta(seconds=0.1))
def extract(n):
    MARKS.mkdir(exist_ok=True)
    attempt = MARKS / "extract"
    if not attempt.exists():
        attempt.write_text("1")
        raise ConnectionError("first attempt fails")
    context.get_logger().info("extracted %d", n)
    return list(range(n))

@task
def scale(x, factor):
    context.get_logger().info("scaling %d", x)
    return x * factor

@task
def load(xs):
    return sum(xs)

with Flow("etl") as flow:
    n = Parameter("n", default=3)
    total = load(scale.map(extract(n), factor=unmapped(10)))
"""


def test_a_registered_flow_runs_to_success_with_every_record(
    harness: Harness, client: Client
) -> None:
    ids = harness.register(ETL)
    run = client.create_flow_run(flow_id=ids["etl"], parameters={"n": 4})
    harness.execute(run.id)

    final = client.get_flow_run(run.id)
    assert final.state.type.value == "Success", final.state
    task_runs = client.list_task_runs(run.id)
    by_key = {(t.task_slug, t.map_index): t.state.type.value for t in task_runs}
    assert by_key[("extract-1", -1)] == "Success"
    assert by_key[("scale-1", -1)] == "Mapped"
    assert all(by_key[("scale-1", k)] == "Success" for k in range(4))
    assert by_key[("load-1", -1)] == "Success"
    history = [
        s.state.type.value
        for s in client.task_run_states(next(t.id for t in task_runs if t.task_slug == "extract-1"))
    ]
    assert "Retrying" in history

    logs = [entry.message for entry in client.get_logs(run.id).logs]
    assert "extracted 4" in logs
    assert sum(m.startswith("scaling") for m in logs) == 4

    kinds = [e.kind for e in client.get_trace(run.id)]
    for kind in (
        "created",
        "process_started",
        "flow_loaded",
        "flow_run_started",
        "executor_started",
        "task_submitted",
        "task_started",
        "task_retry_scheduled",
        "flow_run_finished",
    ):
        assert kind in kinds, (kind, kinds)
    assert (
        kinds.index("process_started")
        < kinds.index("flow_loaded")
        < kinds.index("flow_run_finished")
    )


# Flow scripts count their tasks' calls in files beside them, across processes.
COUNTING = """
from pathlib import Path

COUNTS = Path(__file__).parent / "counts"

def bump(name):
    COUNTS.mkdir(exist_ok=True)
    f = COUNTS / name
    f.write_text(f.read_text() + "x" if f.exists() else "x")
    return len(f.read_text())
"""

SLOW_RETRY = (
    COUNTING
    + """
import datetime
from weir import Flow, task

@task
def first():
    bump("first")
    return 5

@task(max_retries=1, retry_delay=datetime.timedelta(seconds=2))
def second(x):
    if bump("second") == 1:
        raise RuntimeError("not yet")
    return x + 1

with Flow("later") as flow:
    out = second(first())
"""
)


def test_a_retry_due_later_leaves_the_process_and_resumes(
    harness: Harness, client: Client, tmp_path: Path
) -> None:
    ids = harness.register(SLOW_RETRY)
    run = client.create_flow_run(flow_id=ids["later"])
    harness.execute(run.id, WEIR_MAX_LOCAL_RETRY_WAIT="0.5")
    waiting = client.get_flow_run(run.id)
    assert waiting.state.type.value == "Scheduled", waiting.state
    assert waiting.state.start_time is not None and waiting.state.start_time > time.time()
    time.sleep(max(0.0, waiting.state.start_time - time.time()))
    harness.execute(run.id, WEIR_MAX_LOCAL_RETRY_WAIT="0.5")
    final = client.get_flow_run(run.id)
    assert final.state.type.value == "Success", final.state
    counts = tmp_path / "counts"
    assert (counts / "first").read_text() == "x"  # kept from the first attempt
    assert (counts / "second").read_text() == "xx"


KEEPS_FAILING = (
    COUNTING
    + """
import datetime
from weir import Flow, Parameter, task

LATER = datetime.timedelta(seconds=1)

@task(checkpoint=False)
def unkept():
    return 1

@task(max_retries=1, retry_delay=LATER)
def after_parameter(p):
    bump("after_parameter")
    raise RuntimeError("always")

@task(max_retries=1, retry_delay=LATER)
def after_unkept(x):
    bump("after_unkept")
    raise RuntimeError("always")

@task(max_retries=1, retry_delay=LATER)
def child(i):
    if i == 1:
        bump("child")
        raise RuntimeError("always")
    return i

with Flow("keeps-failing") as flow:
    after_parameter(Parameter("p", default=3))
    after_unkept(unkept())
    child.map([0, 1, 2])
"""
)


def test_a_resumed_retry_counts_its_earlier_attempts_and_runs_out(
    harness: Harness, client: Client, tmp_path: Path
) -> None:
    # Retries due later than the process waits: the run goes Scheduled and resumes. A
    # task whose upstream is a Parameter, a task that keeps no checkpoint, or a mapped
    # child went on from its first attempt each time, and the run never ended.
    run = client.create_flow_run(flow_id=harness.register(KEEPS_FAILING)["keeps-failing"])
    harness.execute(run.id, WEIR_MAX_LOCAL_RETRY_WAIT="0.3")
    waiting = client.get_flow_run(run.id)
    assert waiting.state.type.value == "Scheduled", waiting.state
    time.sleep(max(0.0, waiting.state.start_time - time.time()))
    harness.execute(run.id, WEIR_MAX_LOCAL_RETRY_WAIT="0.3")
    final = client.get_flow_run(run.id)
    assert final.state.type.value == "Failed", final.state
    counts = tmp_path / "counts"
    for name in ("after_parameter", "after_unkept", "child"):
        assert (counts / name).read_text() == "xx", name  # max_retries=1: two runs
    states = {(t.task_slug, t.map_index): t.state for t in client.list_task_runs(run.id)}
    assert states[("child-1", 1)].type.value == "Failed"
    # The Parameter was taken again, not reported again (the server refused that move).
    lines = [line.message for line in client.get_logs(run.id).logs]
    assert [line for line in lines if "refused a state of task run p[" in line] == []


WAITS_FOR_APPROVAL = (
    COUNTING
    + """
import weir
from weir import Flow, task
from weir.signals import PAUSE
from weir.triggers import manual_only

@task
def before():
    bump("before")
    return 1

@task(trigger=manual_only)
def approve(x):
    bump("approve")
    return x + 1

@task
def pause_me(x):
    if not weir.context.get("resume"):
        raise PAUSE("waiting for an ok")
    bump("pause_me")
    return x

with Flow("approval") as flow:
    b = before()
    approve(b)
    pause_me.map([b, b])
"""
)


def test_a_paused_run_waits_for_a_person_and_resumes_approved(
    harness: Harness, client: Client, tmp_path: Path
) -> None:
    run = client.create_flow_run(flow_id=harness.register(WAITS_FOR_APPROVAL)["approval"])
    harness.execute(run.id)
    paused = client.get_flow_run(run.id)
    assert paused.state.type.value == "Paused", paused.state
    assert "approve" in paused.state.message and "pause_me" in paused.state.message
    waiting = {
        (t.task_slug, t.map_index): t.state.type.value for t in client.list_task_runs(run.id)
    }
    assert waiting[("approve-1", -1)] == waiting[("pause_me-1", 1)] == "Paused"
    counts = tmp_path / "counts"
    assert not (counts / "approve").exists() and not (counts / "pause_me").exists()

    resumed = client.resume_flow_run(run.id)
    assert resumed.state.type.value == "Scheduled"
    assert resumed.state.message == "Resumed: 3 paused task runs approved."
    harness.execute(run.id)
    final = client.get_flow_run(run.id)
    assert final.state.type.value == "Success", final.state
    assert (counts / "before").read_text() == "x"  # kept from the first attempt
    assert (counts / "approve").read_text() == "x"
    assert (counts / "pause_me").read_text() == "xx"  # each child once
    # Only a paused run can be resumed; the answer says why.
    with pytest.raises(ClientError) as refused:
        client.resume_flow_run(run.id)
    assert refused.value.status_code == 409
    assert "only a Paused run" in str(refused.value)


FAILS_ONCE = (
    COUNTING
    + """
from weir import Flow, task

@task
def prepare():
    bump("prepare")
    return [1, 2, 3]

@task
def publish(xs):
    if bump("publish") == 1:
        raise ValueError("the target was down")
    return sum(xs)

with Flow("restartable") as flow:
    out = publish(prepare())
"""
)


def test_restart_from_failure_reruns_only_what_failed(
    harness: Harness, client: Client, tmp_path: Path
) -> None:
    ids = harness.register(FAILS_ONCE)
    run = client.create_flow_run(flow_id=ids["restartable"])
    harness.execute(run.id)
    assert client.get_flow_run(run.id).state.type.value == "Failed"
    client.restart_flow_run(run.id)
    harness.execute(run.id)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    counts = tmp_path / "counts"
    assert (counts / "prepare").read_text() == "x"
    assert (counts / "publish").read_text() == "xx"
    kinds = [e.kind for e in client.get_trace(run.id)]
    assert "restarted" in kinds and "flow_run_resumed" in kinds


SLOW_CHAIN = """
import time
from weir import Flow, task

@task
def step(x):
    time.sleep(0.1)
    return x + 1

with Flow("slow") as flow:
    x = step(0)
    for _ in range(100):
        x = step(x)
"""


def test_cancel_from_the_api_stops_the_process(harness: Harness, client: Client) -> None:
    ids = harness.register(SLOW_CHAIN)
    run = client.create_flow_run(flow_id=ids["slow"])
    proc = harness.start(run.id)
    wait_until(lambda: client.get_flow_run(run.id).state.type.value == "Running", 20)
    time.sleep(0.5)
    client.cancel_flow_run(run.id)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    final = client.get_flow_run(run.id)
    assert final.state.type.value == "Cancelled", final.state
    done = [t for t in client.list_task_runs(run.id) if t.state.type.value == "Success"]
    assert 0 < len(done) < 101


SWITCH = """
import sys
from weir import Flow, task, context

@task
def interval():
    context.get_logger().info("switch interval %s", sys.getswitchinterval())

with Flow("switch") as flow:
    interval()
"""


def test_the_run_hands_the_gil_to_the_reporter_within_a_millisecond(
    harness: Harness, client: Client
) -> None:
    from weir.execution.flow_run import SWITCH_INTERVAL

    ids = harness.register(SWITCH)
    run = client.create_flow_run(flow_id=ids["switch"])
    harness.execute(run.id)
    logs = [entry.message for entry in client.get_logs(run.id).logs]
    assert f"switch interval {SWITCH_INTERVAL}" in logs


def test_a_first_attempt_reads_no_task_runs_and_a_restart_does(
    database: Database, tmp_path: Path
) -> None:
    """A run that never went Running has no earlier task runs to resume from: its
    process skips that read; a restarted one reads them (and resumes)."""
    app = create_app(ServerSettings(database_url=database.url), db=database, migrate=False)
    reads: list[str] = []

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/task_runs"):
            reads.append(scope["method"])
        await app(scope, receive, send)

    clear(database)
    with LiveServer(counting) as live, Client(live.url, retries=8, backoff=0.1) as client:
        harness = Harness(client, tmp_path, tmp_path / "home")
        ids = harness.register(FAILS_ONCE)
        run = client.create_flow_run(flow_id=ids["restartable"])
        harness.execute(run.id)
        assert client.get_flow_run(run.id).state.type.value == "Failed"
        assert reads == []
        client.restart_flow_run(run.id)
        harness.execute(run.id)
        assert client.get_flow_run(run.id).state.type.value == "Success"
        assert reads == ["GET"]
