"""The flows the UI's browser tests register and a real agent runs.

Registered with ``Local`` storage pointing at this file, so the agent's
``weir execute flow-run`` process loads them from here by name.
"""

from __future__ import annotations

import time

from weir import Flow, Parameter, context, signals, task


@task
def extract(n: int) -> list[int]:
    time.sleep(0.3)
    context.get_logger().info("extract: made %d items.", n)
    return list(range(n))


@task
def transform(x: int) -> int:
    time.sleep(0.05)
    return x * 10


@task
def load(xs: list[int]) -> int:
    time.sleep(0.3)
    context.get_logger().info("load: done with n=%d.", len(xs))
    return sum(xs)


@task
def tick(i: int) -> int:
    """One step of a long run; cancellation reaches the runner between steps."""
    if i == 0:
        context.get_logger().info("slow: working until told to stop.")
    time.sleep(0.25)
    return i


@task(task_run_name="source-{i}")
def fetch(i: int) -> int:
    """One source of many; two of them fail, one by a FAIL signal, one by an exception.
    Each child is named for its source (Prefect 1's ``task_run_name``)."""
    context.get_logger().info("fetch: source %d.", i)
    if i == 3:
        raise signals.FAIL(f"source {i} answered 503")
    if i == 5:
        raise ValueError(f"row {i} has no date")
    return i


def fetch_all_flow() -> Flow:
    with Flow("ui-fetch-all") as flow:
        load(fetch.map(Parameter("sources", default=list(range(8)))))
    return flow


def etl_flow() -> Flow:
    with Flow("ui-etl") as flow:
        n = Parameter("n", default=3)
        load(transform.map(extract(n)))
        flow.add_task(Parameter("greeting", default="hello"))
    return flow


def slow_flow(steps: int = 200) -> Flow:
    with Flow("ui-slow") as flow:
        previous = None
        for i in range(steps):
            previous = tick(i, upstream_tasks=[previous] if previous is not None else None)
    return flow


def approval_flow() -> Flow:
    from weir.triggers import manual_only

    @task(trigger=manual_only)
    def approve(x: int) -> int:
        return x

    with Flow("ui-approval") as flow:
        approve(tick(1))
    return flow


etl = etl_flow()
approval = approval_flow()
slow = slow_flow()
fetch_all = fetch_all_flow()
