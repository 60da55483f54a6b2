"""A Prefect 1 flow ported by changing its imports (the Prefect lines are in comments)."""

from __future__ import annotations

import datetime

# from prefect import Flow, Parameter, case, merge, task, unmapped
# from prefect.engine import signals
# from prefect.engine.state import Failed, Success
# from prefect.executors import LocalDaskExecutor
# from prefect.triggers import all_finished
from weir import Flow, Parameter, case, merge, signals, task, unmapped
from weir.engine.state import Failed, Success
from weir.executors import ThreadExecutor
from weir.triggers import all_finished


@task(max_retries=2, retry_delay=datetime.timedelta(seconds=0.1))
def get_ids(limit: int) -> list[int]:
    if limit <= 0:
        raise signals.FAIL(f"limit must be positive, got {limit}")
    return list(range(limit))


@task
def fetch(i: int, prefix: str) -> str | None:
    return None if i == 3 else f"{prefix}{i}"  # id 3 is retired


@task
def is_big(ids: list[int]) -> bool:
    return len(ids) > 3


@task
def report(label: str, rows: list[str | None]) -> str:
    return f"{label}: {len([r for r in rows if r])} rows"


@task(trigger=all_finished)
def close() -> str:
    return "closed"


with Flow("ported") as flow:
    limit = Parameter("limit", default=5)
    ids = get_ids(limit)
    rows = fetch.map(ids, prefix=unmapped("id-"))
    big = is_big(ids)
    with case(big, True):
        heavy = report("big batch", rows)
    with case(big, False):
        light = report("small batch", rows)
    summary = merge(heavy, light)
    close(upstream_tasks=[summary])

state = flow.run(executor=ThreadExecutor(max_workers=4))  # was LocalDaskExecutor()
print(isinstance(state, Success), isinstance(state, Failed))
print(state.result[summary].result)
print([s.name for s in state.result[rows].map_states])
print(flow.run(parameters={"limit": 0}).result[ids])
