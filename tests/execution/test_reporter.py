"""The API reporter against a live server: one item per task run, task events read off states."""

from __future__ import annotations

from weir.client import Client
from weir.engine.state import Retrying, Running, State, Success
from weir.execution.reporter import ApiReporter
from weir.utilities.waiting import wait_until

from .conftest import ONE_TASK, Harness


def _at(state: State, ts: float) -> State:
    state.ts = ts
    return state


def _reporter(harness: Harness, client: Client) -> tuple[ApiReporter, str]:
    flow_id = harness.register(ONE_TASK)["one"]
    run = client.create_flow_run(flow_id=flow_id)
    # A long interval: nothing leaves before flush(), so the test sees the items it built.
    return ApiReporter(client, run.id, run.version, interval=60), str(run.id)


def _history(client: Client, run_id: str) -> list[str]:
    """The state types of the run's one task run, oldest first."""
    [task_run] = client.list_task_runs(run_id)
    return [h.state.type.value for h in client.task_run_states(task_run.id)]


def _task_trace(client: Client, run_id: str) -> list[tuple[str, str | None, float, dict]]:
    return [
        (e.kind, e.task_slug, e.timestamp, e.data)
        for e in client.get_trace(run_id)
        if e.task_slug is not None
    ]


def test_a_task_run_s_states_travel_as_one_item_with_its_submit_time(
    harness: Harness, client: Client
) -> None:
    reporter, run_id = _reporter(harness, client)
    try:
        reporter.trace("task_submitted", "a-1", None, ts=100.0)
        reporter.trace("task_started", "a-1", None, ts=101.0)  # read off Running instead
        reporter.task_run_state("a-1", None, _at(Running(), 101.0))
        reporter.task_run_state("a-1", None, _at(Success(), 102.0))
        reporter.trace("task_finished", "a-1", None, {"state": "Success"}, ts=102.0)
        reporter.flush()
        assert reporter.sent == {"states": 1, "logs": 0, "trace": 0}
    finally:
        reporter.close()
    assert _history(client, run_id) == ["Running", "Success"]
    assert _task_trace(client, run_id) == [
        ("task_submitted", "a-1", 100.0, {}),
        ("task_started", "a-1", 101.0, {}),
        ("task_finished", "a-1", 102.0, {"state": "Success"}),
    ]


def test_a_retry_starts_a_new_item_and_a_sent_item_is_not_added_to(
    harness: Harness, client: Client
) -> None:
    reporter, run_id = _reporter(harness, client)
    try:
        reporter.trace("task_submitted", "a-1", None, ts=100.0)
        reporter.task_run_state("a-1", None, _at(Running(), 101.0))
        reporter.task_run_state("a-1", None, _at(Retrying(start_time=103.0, run_count=1), 102.0))
        reporter.trace("task_submitted", "a-1", None, ts=103.0)
        reporter.task_run_state("a-1", None, _at(Running(), 104.0))
        reporter.flush()  # the second attempt's item leaves with Running only...
        reporter.task_run_state("a-1", None, _at(Success(), 105.0))  # ...so this one is new
        reporter.flush()
        assert reporter.sent["states"] == 3
    finally:
        reporter.close()
    assert _history(client, run_id) == ["Running", "Retrying", "Running", "Success"]
    assert [(kind, ts) for kind, _, ts, _ in _task_trace(client, run_id)] == [
        ("task_submitted", 100.0),
        ("task_started", 101.0),
        ("task_submitted", 103.0),
        ("task_started", 104.0),
        ("task_finished", 105.0),
    ]


def test_a_submission_no_state_followed_is_still_traced(harness: Harness, client: Client) -> None:
    reporter, run_id = _reporter(harness, client)
    try:
        reporter.trace("task_submitted", "a-1", 3, ts=100.0)
        reporter.flow_run_state(Running())  # the flow run's state write sends what is left
    finally:
        reporter.close()
    events = [e for e in client.get_trace(run_id) if e.task_slug == "a-1"]
    assert [(e.kind, e.map_index, e.timestamp) for e in events] == [("task_submitted", 3, 100.0)]


def test_a_nudge_sends_task_runs_and_the_state_takes_the_rest_with_it(
    harness: Harness, client: Client
) -> None:
    flow_id = harness.register(ONE_TASK)["one"]
    run = client.create_flow_run(flow_id=flow_id)
    reporter = ApiReporter(client, run.id, run.version, interval=60, nudge_size=3)
    try:
        reporter.trace("flow_run_started", data={"flow": "one"}, ts=99.0)
        for n in range(3):  # the third nudges the sender: task runs only
            reporter.task_run_state(f"t-{n}", None, _at(Running(), 100.0 + n))
        wait_until(lambda: reporter.sent["states"] >= 3, 10, interval=0.01)
        assert reporter.sent == {"states": 3, "logs": 0, "trace": 0}
        reporter.task_run_state("t-3", None, _at(Running(), 103.0))
        reporter.flow_run_state(Running())  # carries t-3 and the trace event
        assert reporter.sent == {"states": 4, "logs": 0, "trace": 1}
    finally:
        reporter.close()
    assert len(client.list_task_runs(run.id)) == 4
    assert [e.kind for e in client.get_trace(run.id)].count("flow_run_started") == 1
    assert client.get_flow_run(run.id).state.type.value == "Running"
