"""Prefect 1 flows that drive their runs by hand, ported by changing ``prefect`` to
``weir`` in their imports.

Each flow is written as Prefect 1's docs write such code (``FlowRunner.run`` with
``return_tasks``/``task_states``, ``flow.run(**parameters)``, ``manual_only`` with
``Resume``); each test checks the result Prefect 1 gives for it.
"""

from __future__ import annotations

import datetime

from weir import Flow, Parameter, context, task
from weir.engine.flow_runner import FlowRunner
from weir.engine.state import Paused, Pending, Resume, Retrying, Success
from weir.triggers import manual_only


@task
def extract(n):
    return list(range(n))


@task
def transform(x):
    return x * 10


@task
def load(xs):
    return sum(xs)


def etl_flow():
    with Flow("etl") as flow:
        n = Parameter("n", default=3)
        data = extract(n)
        out = transform.map(data)
        total = load(out)
    return flow, data, out, total


def test_parameters_by_keyword():
    flow, _, _, total = etl_flow()
    state = flow.run(n=4)
    assert state.is_successful()
    assert state.result[total].result == 60  # 10 * (0 + 1 + 2 + 3)


def test_flow_runner_with_return_tasks():
    # Prefect 1: the returned state's result holds only the tasks asked for.
    flow, _, _, total = etl_flow()
    state = FlowRunner(flow=flow).run(parameters={"n": 3}, return_tasks=[total])
    assert state.is_successful()
    assert list(state.result) == [total]
    assert state.result[total].result == 30


def test_restart_from_earlier_task_states():
    # A task given Success does not run; its result feeds what follows.
    flow, data, _, total = etl_flow()
    state = FlowRunner(flow=flow).run(
        task_states={data: Success(result=[5, 6])}, return_tasks=[total]
    )
    assert state.result[total].result == 110


def test_a_retry_due_later_leaves_the_run_running():
    calls = []

    @task(max_retries=2, retry_delay=datetime.timedelta(minutes=5))
    def flaky():
        calls.append(context.get("task_run_count"))
        if len(calls) == 1:
            raise ValueError("API not ready")
        return "ok"

    @task
    def report(x):
        return f"report: {x}"

    with Flow("retrying") as flow:
        r = report(flaky())

    runner = FlowRunner(flow=flow)
    state = runner.run(return_tasks=flow.tasks)
    assert state.is_running()
    first = state.result[flaky_task(flow)]
    assert isinstance(first, Retrying) and first.run_count == 1
    assert isinstance(state.result[r], Pending)

    # The caller comes back when the retry is due (here: pretends it is) with the states.
    first.start_time = first.start_time - 600
    state = runner.run(task_states=state.result, return_tasks=flow.tasks)
    assert state.is_successful()
    assert state.result[r].result == "report: ok"
    assert calls == [1, 2]


def flaky_task(flow):
    return next(t for t in flow.tasks if t.name == "flaky")


def test_flow_run_waits_for_retries_itself():
    calls = []

    @task(max_retries=1, retry_delay=datetime.timedelta(seconds=0.1))
    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("once")
        return len(calls)

    with Flow("waits") as flow:
        f = flaky()
    state = flow.run()
    assert state.is_successful() and state.result[f].result == 2


def test_manual_approval_with_resume():
    # Prefect 1: a manual_only task pauses; a Resume state for it lets the run go on.
    @task
    def build_report():
        return "report"

    @task(trigger=manual_only)
    def publish(report):
        return f"published {report}"

    with Flow("approval") as flow:
        published = publish(build_report())

    runner = FlowRunner(flow=flow)
    state = runner.run(return_tasks=flow.tasks)
    assert state.is_running()
    assert isinstance(state.result[published], Paused)

    task_states = dict(state.result)
    task_states[published] = Resume()
    state = runner.run(task_states=task_states, return_tasks=[published])
    assert state.is_successful()
    assert state.result[published].result == "published report"


def test_resume_through_context():
    @task(trigger=manual_only)
    def publish():
        return "published"

    with Flow("approval") as flow:
        p = publish()
    state = flow.run(context={"resume": True})
    assert state.result[p].result == "published"


def test_copy_of_a_flow_is_equal():
    flow, _, _, _ = etl_flow()
    assert flow.copy() == flow
