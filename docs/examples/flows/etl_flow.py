"""The flow the walkthrough registers and runs: extract (fails once, then retries), map, load."""

from __future__ import annotations

import datetime

from weir import Flow, Parameter, context, signals, task, unmapped


@task(max_retries=1, retry_delay=datetime.timedelta(seconds=0.1))
def extract(n: int) -> list[int]:
    if context.task_run_count == 1:
        context.get_logger().warning("The source timed out; weir will retry.")
        raise signals.FAIL("The source timed out.")  # a Failed state, then a retry
    return list(range(n))


@task
def transform(x: int, factor: int) -> int:
    return x * factor


@task
def load(xs: list[int]) -> int:
    context.get_logger().info("Loaded %d records, total %d.", len(xs), sum(xs))
    return sum(xs)


with Flow("walkthrough") as flow:
    n = Parameter("n", default=3)
    total = load(transform.map(extract(n), factor=unmapped(10)))


if __name__ == "__main__":
    print(flow.run())
