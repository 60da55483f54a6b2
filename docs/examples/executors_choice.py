"""The same flow on each executor: inline, threads, processes, and a local Dask cluster."""

from __future__ import annotations

from weir import Flow, task
from weir.executors import DaskExecutor, LocalExecutor, ProcessExecutor, ThreadExecutor


@task
def numbers() -> list[int]:
    return list(range(8))


@task
def square(x: int) -> int:
    return x * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


with Flow("executors") as flow:
    result = total(square.map(numbers()))

if __name__ == "__main__":  # process and Dask workers import this module
    executors = [
        LocalExecutor(),
        ThreadExecutor(max_workers=4),
        ProcessExecutor(max_workers=2),
        DaskExecutor(
            cluster_kwargs={"n_workers": 1, "processes": False, "dashboard_address": None}
        ),
    ]
    for executor in executors:
        state = flow.run(executor=executor)
        print(f"{type(executor).__name__:<16} {state.name}  total={state.result[result].result}")
