"""The README's first flow: a parameter, a retried extract, a mapped transform, a load."""

from __future__ import annotations

import datetime

from weir import Flow, Parameter, task, unmapped


@task(max_retries=3, retry_delay=datetime.timedelta(seconds=1))
def extract(n: int) -> list[int]:
    return list(range(n))


@task
def transform(x: int, factor: int) -> int:
    return x * factor


@task
def load(xs: list[int]) -> int:
    return sum(xs)


with Flow("etl") as flow:
    n = Parameter("n", default=5)
    total = load(transform.map(extract(n), factor=unmapped(10)))

state = flow.run(parameters={"n": 3})
print(state, state.result[total].result)
