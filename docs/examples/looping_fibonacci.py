"""Prefect 1's task-looping tutorial: LOOP hands each iteration's result to the next,
and a retry of a failed iteration goes on from where the loop was."""

from __future__ import annotations

from datetime import timedelta

from weir import Flow, Parameter, context, task
from weir.signals import LOOP

calls = {"n": 0}


def fibonacci_api(nth: int) -> int:
    """Stands in for a service that fails now and then (here: on its 4th call)."""
    calls["n"] += 1
    if calls["n"] == 4:
        raise ConnectionError("the service hung up")
    a, b = 0, 1
    for _ in range(nth):
        a, b = b, a + b
    return a


@task(max_retries=5, retry_delay=timedelta(seconds=0))
def compute_large_fibonacci(M: int) -> int:
    payload = context.get("task_loop_result", {})
    n, fib = payload.get("n", 1), payload.get("fib", 1)
    next_fib = fibonacci_api(nth=n)
    if next_fib > M:
        return fib
    raise LOOP(message=f"Fib {n}={next_fib}", result=dict(n=n + 1, fib=next_fib))


with Flow("fibonacci") as flow:
    fib_num = compute_large_fibonacci(Parameter("M"))

state = flow.run(parameters={"M": 100})
print(state.result[fib_num].result)  # 89: the largest Fibonacci number up to 100
print(calls["n"], "calls, one of them failed and was retried")
