"""An ETL flow: Parameters, a flaky extract step that retries, a mapped transform, a load.

Run it on its own with ``python examples/etl.py``.
"""

from __future__ import annotations

import datetime
import random

from weir import Flow, Parameter, context, task, unmapped


@task(max_retries=3, retry_delay=datetime.timedelta(seconds=0.1))
def extract(n: int, failure_rate: float) -> list[int]:
    """Fetch ``n`` records from an unreliable source (it fails now and then)."""
    logger = context.get_logger()
    if context.task_run_count == 1 and random.random() < failure_rate:
        logger.warning("The source timed out; weir will retry.")
        raise ConnectionError("source timed out")
    logger.info("Extracted %d records on attempt %d.", n, context.task_run_count)
    return list(range(1, n + 1))


@task
def transform(record: int, factor: int) -> int:
    """Scale one record."""
    return record * factor


@task
def load(records: list[int]) -> int:
    """Store the records; return how many were stored."""
    context.get_logger().info("Loaded %d records, total %d.", len(records), sum(records))
    return len(records)


with Flow("etl") as flow:
    n = Parameter("n", default=5)
    factor = Parameter("factor", default=10)
    failure_rate = Parameter("failure_rate", default=0.5)
    records = extract(n, failure_rate)
    scaled = transform.map(records, factor=unmapped(factor))
    stored = load(scaled)


if __name__ == "__main__":
    state = flow.run(parameters={"n": 3})
    print(state, state.result[stored].result)
