"""A task-tag concurrency limit holds when tasks run away from the flow-run process.

Each test runs a flow the way ``weir execute flow-run`` does (a flow run on a live
server, the API reporter, a FlowRunner), with its tagged tasks on a ProcessExecutor
or on Dask, and reads back from the server when each task run was Running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from weir import Flow, task, triggers, unmapped
from weir.client import Client
from weir.engine.flow_runner import FlowRunner
from weir.engine.state import State
from weir.execution.reporter import ApiReporter
from weir.executors import DaskExecutor, Executor, ProcessExecutor
from weir.utilities.waiting import wait_until

pytestmark = pytest.mark.integration

TAG = "one-at-a-time"


@task(tags=[TAG])
def hold(i: int, seconds: float) -> int:
    time.sleep(seconds)
    return i


@task(tags=[TAG], timeout=0.5)
def overrun() -> None:
    time.sleep(30)


@task(tags=[TAG], trigger=triggers.always_run)
def after() -> str:
    return "ran"


def _limited_flow(n: int, seconds: float) -> Flow:
    with Flow("limited") as flow:
        hold.map(list(range(n)), seconds=unmapped(seconds))
    return flow


def _run(client: Client, flow: Flow, executor: Executor, timeout: float = 60) -> tuple[str, State]:
    """Run ``flow`` as a registered flow run reporting to the server; its id and state."""
    flow_id = client.register_flow(flow.serialize()).flow.id
    run = client.create_flow_run(flow_id)
    reporter = ApiReporter(client, run.id, run.version, heartbeat_interval=0.2)
    outcome: list[State] = []

    def go() -> None:
        runner = FlowRunner(flow, reporter=reporter)
        outcome.append(
            runner.run(executor=executor, flow_run_id=str(run.id), return_tasks=flow.tasks)
        )

    thread = threading.Thread(target=go, daemon=True)
    try:
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            # A slot that is never given back makes the next task wait for ever: stop it.
            client.cancel_flow_run(run.id)
            thread.join(30)
            pytest.fail(f"The flow run did not finish within {timeout} s.")
    finally:
        reporter.close()
    return str(run.id), outcome[0]


def _running_intervals(client: Client, run_id: str) -> list[tuple[float, float, str]]:
    """(Running time, final time, slug[index]) of every tagged task run that ran, by start."""
    intervals = []
    for tr in client.list_task_runs(run_id):
        if not tr.task_slug.startswith("hold"):
            continue
        history = [h.state for h in client.task_run_states(tr.id)]
        started = [s.timestamp for s in history if s.type.value == "Running"]
        if not started:
            continue
        ended = history[-1].timestamp
        intervals.append((min(started), ended, f"{tr.task_slug}[{tr.map_index}]"))
    return sorted(intervals)


def _assert_one_at_a_time(client: Client, run_id: str, expected: int) -> None:
    intervals = _running_intervals(client, run_id)
    assert len(intervals) == expected, intervals
    for (_, end, first), (start, _, second) in zip(intervals, intervals[1:], strict=False):
        assert start >= end, f"{first} and {second} ran at the same time under a limit of 1"
    waited = [e for e in client.get_trace(run_id) if e.kind == "task_waiting_for_slot"]
    assert waited, "no task ever waited for a slot"
    assert client.get_concurrency_limit(TAG).active_slots == 0


@pytest.fixture
def limited(client: Client) -> Iterator[Client]:
    client.set_concurrency_limit(TAG, 1)
    yield client


def test_a_limit_of_one_holds_under_the_process_executor(limited: Client) -> None:
    run_id, state = _run(limited, _limited_flow(4, 0.3), ProcessExecutor(max_workers=2))
    assert state.is_successful(), state
    _assert_one_at_a_time(limited, run_id, expected=4)


def test_a_limit_of_one_holds_on_dask_worker_processes(
    limited: Client, dask_cluster_address: str
) -> None:
    # Two single-threaded worker processes: two tasks could run at once.
    executor = DaskExecutor(address=dask_cluster_address)
    run_id, state = _run(limited, _limited_flow(4, 0.3), executor)
    assert state.is_successful(), state
    _assert_one_at_a_time(limited, run_id, expected=4)


def test_a_limit_of_one_holds_on_a_threaded_dask_cluster(limited: Client) -> None:
    executor = DaskExecutor(
        cluster_kwargs={
            "n_workers": 2,
            "threads_per_worker": 2,
            "processes": False,
            "dashboard_address": ":0",
            "silence_logs": logging.ERROR,
        }
    )
    run_id, state = _run(limited, _limited_flow(4, 0.3), executor)
    assert state.is_successful(), state
    _assert_one_at_a_time(limited, run_id, expected=4)


def test_a_worker_killed_for_its_timeout_does_not_keep_its_slot(limited: Client) -> None:
    with Flow("killed") as flow:
        after(upstream_tasks=[overrun()])
    # Without the slot given back for it, `after` would wait for ever.
    run_id, state = _run(limited, flow, ProcessExecutor(max_workers=2), timeout=20)
    results: dict[Any, State] = state.result
    assert {t.name: s.type.value for t, s in results.items()} == {
        "overrun": "TimedOut",
        "after": "Success",
    }
    assert limited.get_concurrency_limit(TAG).active_slots == 0


def test_a_run_cancelled_while_its_task_waits_for_a_slot_ends_cancelled(limited: Client) -> None:
    # Another running flow run holds the only slot.
    holder_flow = limited.register_flow(_limited_flow(1, 0).serialize()).flow.id
    holder = limited.create_flow_run(holder_flow)
    limited.set_flow_run_state(holder.id, {"type": "Running"}, holder.version)
    body = {"tags": [TAG], "task_run_key": "holder/hold/-1", "flow_run_id": str(holder.id)}
    assert limited.request("POST", "concurrency_limits/acquire", json=body)["granted"]
    flow = _limited_flow(1, 0)
    flow_id = limited.register_flow(flow.serialize()).flow.id
    run = limited.create_flow_run(flow_id)
    reporter = ApiReporter(limited, run.id, run.version, heartbeat_interval=0.1)
    outcome: list[State] = []

    def go() -> None:
        outcome.append(FlowRunner(flow, reporter=reporter).run(flow_run_id=str(run.id)))

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    try:
        wait_until(
            lambda: any(e.kind == "task_waiting_for_slot" for e in limited.get_trace(run.id)),
            20,
            "the task never waited for its slot",
        )
        limited.cancel_flow_run(run.id)
        thread.join(20)
        assert not thread.is_alive()
    finally:
        reporter.close()
    assert outcome and outcome[0].type.value == "Cancelled", outcome
    assert limited.get_flow_run(run.id).state.type.value == "Cancelled"
