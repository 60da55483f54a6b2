"""A flow-run process whose run another attempt took over stops and writes nothing more."""

from __future__ import annotations

import time
from typing import Any

import pytest

from weir.client import Client
from weir.client.settings import ATTEMPT_ENV
from weir.engine.state import Running, Success
from weir.exceptions import ConflictError, SupersededError
from weir.execution.reporter import ApiReporter
from weir.utilities.waiting import wait_until

from .conftest import ONE_TASK, Harness

CHAIN = """
import time
from weir import Flow, task

@task
def step(x):
    time.sleep(0.05)
    return x + 1

with Flow("chain") as flow:
    x = step(0)
    for _ in range(200):
        x = step(x)
"""


def _claimed(client: Client, flow_id: Any) -> Any:
    run = client.create_flow_run(flow_id=flow_id)
    [claimed] = client.claim(limit=1)
    assert claimed.id == run.id
    return claimed


def _take_over(client: Client, run_id: Any) -> Any:
    """What lazarus and a second claim do to a run whose process went silent."""
    run = client.get_flow_run(run_id)
    client.set_flow_run_state(run_id, {"type": "Scheduled", "start_time": 0}, run.version)
    # A claim passes over a run locked for a moment (its heartbeat): as an agent, ask again.
    [claimed] = client.claim(limit=1, wait=5)
    assert claimed.id == run.id
    return claimed


def _process(
    harness: Harness, client: Client, heartbeat_interval: float
) -> tuple[Any, Client, ApiReporter]:
    """A claimed run, and the client and reporter its process would make (sending: on flush)."""
    run = _claimed(client, harness.register(ONE_TASK)["one"])
    process = Client(client.api_url)
    process.fence(run.attempt)
    reporter = ApiReporter(
        process, run.id, run.version, interval=60, heartbeat_interval=heartbeat_interval
    )
    return run, process, reporter


def test_the_client_tells_a_superseded_write_from_a_stale_version(
    harness: Harness, client: Client
) -> None:
    run = _claimed(client, harness.register(ONE_TASK)["one"])
    with Client(client.api_url) as process:
        process.fence(run.attempt)
        with pytest.raises(ConflictError) as stale:
            process.set_flow_run_state(run.id, {"type": "Running"}, run.version - 1)
        assert not isinstance(stale.value, SupersededError)
        _take_over(client, run.id)
        with pytest.raises(SupersededError, match="taken over by attempt 2"):
            process.heartbeat_flow_run(run.id)


def test_a_superseded_reporter_stops_the_runner_and_writes_nothing_more(
    harness: Harness, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    run, process, reporter = _process(harness, client, heartbeat_interval=0.05)
    try:
        reporter.flow_run_state(Running())
        taken = _take_over(client, run.id)
        wait_until(lambda: reporter.superseded, 10, interval=0.02)  # the next heartbeat hears it
        assert reporter.cancel_requested()  # the runner submits nothing more
        reporter.task_run_state("a-1", None, Running())
        reporter.flow_run_state(Success())  # neither sent nor raised
        reporter.flush()
    finally:
        reporter.close()
        process.close()
    now = client.get_flow_run(run.id)
    assert (now.state.type.value, now.version, now.attempt) == ("Submitted", taken.version, 2)
    assert client.list_task_runs(run.id) == []
    lines = [r for r in caplog.records if "taken over by another attempt" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]


def test_a_state_write_refused_as_superseded_is_not_written_again(
    harness: Harness, client: Client
) -> None:
    run, process, reporter = _process(harness, client, heartbeat_interval=60)
    try:
        reporter.flow_run_state(Running())
        taken = _take_over(client, run.id)
        # With the version read again it would go through, but for the attempt.
        reporter.flow_run_state(Success())
        assert reporter.superseded
    finally:
        reporter.close()
        process.close()
    now = client.get_flow_run(run.id)
    assert (now.state.type.value, now.version) == ("Submitted", taken.version)


def test_a_process_started_for_an_older_attempt_does_nothing(
    harness: Harness, client: Client
) -> None:
    run = _claimed(client, harness.register(ONE_TASK)["one"])
    taken = _take_over(client, run.id)
    out = harness.execute(run.id, **{ATTEMPT_ENV: str(run.attempt)})
    assert "was taken over by attempt 2 before this process (attempt 1) started it" in out
    now = client.get_flow_run(run.id)
    assert (now.state.type.value, now.version) == ("Submitted", taken.version)
    assert [e.kind for e in client.get_trace(run.id)].count("process_started") == 0


def test_a_process_taken_over_mid_run_stops_without_writing_its_end(
    harness: Harness, client: Client
) -> None:
    run = _claimed(client, harness.register(CHAIN)["chain"])
    proc = harness.start(run.id, **{ATTEMPT_ENV: str(run.attempt)})
    wait_until(
        lambda: (
            client.get_flow_run(run.id).state.type.value == "Running" or proc.poll() is not None
        ),
        30,
    )
    assert proc.poll() is None
    time.sleep(0.5)
    taken = _take_over(client, run.id)
    out, _ = proc.communicate(timeout=30)  # long before the chain's 10 s
    assert proc.returncode == 0, out
    assert out.count("was taken over by another attempt") == 1, out
    now = client.get_flow_run(run.id)
    assert (now.state.type.value, now.version) == ("Submitted", taken.version)
    history = [h.state.type.value for h in client.flow_run_states(run.id)]
    assert history == ["Scheduled", "Submitted", "Running", "Scheduled", "Submitted"]
    done = [t for t in client.list_task_runs(run.id) if t.state.type.value == "Success"]
    assert 0 < len(done) < 201
