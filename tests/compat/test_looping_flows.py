"""Prefect 1 looping flows, ported by changing ``prefect`` to ``weir`` in their imports.

The flows are those of Prefect 1's "Dynamic DAGs: Task Looping" tutorial and of the
LOOP signal's docstring; each test checks the result Prefect 1 gives. The tutorial's
Fibonacci "API" is a local function here, one that fails once, so that the retry of
a single iteration shows.
"""

from __future__ import annotations

from datetime import timedelta

import weir
from weir import Flow, Parameter, task
from weir.engine.signals import LOOP

_FIB = [1, 1]
_failed_once: set[int] = set()


def fibonacci_api(nth: int) -> int:
    """The nth Fibonacci number; the 5th request fails once (a bad connection)."""
    if nth == 5 and nth not in _failed_once:
        _failed_once.add(nth)
        raise ConnectionError("connection reset")
    while len(_FIB) <= nth:
        _FIB.append(_FIB[-1] + _FIB[-2])
    return _FIB[nth]


calls: list[tuple[int, int]] = []


@task(max_retries=5, retry_delay=timedelta(seconds=0))
def compute_large_fibonacci(M):
    # we extract the accumulated task loop result from context
    loop_payload = weir.context.get("task_loop_result", {})

    n = loop_payload.get("n", 1)
    fib = loop_payload.get("fib", 1)
    calls.append((n, weir.context.get("task_run_count")))

    next_fib = fibonacci_api(nth=n)

    if next_fib > M:
        return fib  # return statements end the loop

    raise LOOP(message=f"Fib {n}={next_fib}", result=dict(n=n + 1, fib=next_fib))


def test_large_fibonacci_retries_only_the_iteration_that_failed() -> None:
    with Flow("fibonacci") as flow:
        M = Parameter("M")
        fib_num = compute_large_fibonacci(M)

    calls.clear()
    _failed_once.clear()
    flow_state = flow.run(parameters={"M": 100})
    assert flow_state.result[fib_num].result == 89
    # "if any one of these individual iterations were to fail, [...] the task would
    # retry without rerunning previously successful iterations": n=5 runs twice, the
    # second time as run 2; the iterations after it count from 1 again.
    assert [n for n, _ in calls] == [1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11]
    assert [c for n, c in calls if n == 5] == [1, 2]
    assert all(c == 1 for n, c in calls if n != 5)

    flow_state = flow.run(parameters={"M": 1000})
    assert flow_state.result[fib_num].result == 987


def test_looping_combined_with_mapping() -> None:
    with Flow("mapped-fibonacci") as mapped_flow:
        ms = Parameter("ms")
        fib_nums = compute_large_fibonacci.map(ms)

    flow_state = mapped_flow.run(parameters={"ms": [10, 100, 1000, 1500]})
    assert flow_state.result[fib_nums].result == [8, 89, 987, 987]


@task
def accumulate(x: int) -> int:
    current = weir.context.get("task_loop_result", x)
    if current < 100:
        # if current < 100, rerun this task with the task's loop result incremented
        # by 5
        raise LOOP(result=current + 5)
    return current


def test_the_loop_signal_docstring_example() -> None:
    with Flow("Looper") as flow:
        output = accumulate(5)

    flow_state = flow.run()
    assert flow_state.result[output].result == 100


@task(max_retries=1, retry_delay=timedelta(seconds=0))
def looper(x):
    if weir.context.get("task_loop_count") == 2 and weir.context.get("task_run_count", 1) == 1:
        raise ValueError("err")

    if weir.context.get("task_loop_count", 1) < 20:
        raise LOOP(result=weir.context.get("task_loop_result", 0) + x)
    return weir.context.get("task_loop_result") + x


@task
def downstream(l):  # noqa: E741 - the name Prefect 1's flow uses
    return l**2


def test_looping_with_retries_works_in_a_flow() -> None:
    with Flow(name="looping") as f:
        inter = looper(10)
        final = downstream(inter)

    flow_state = f.run()

    assert flow_state.is_successful()
    assert flow_state.result[inter].result == 200
    assert flow_state.result[final].result == 200**2


def test_starting_at_an_arbitrary_loop_index() -> None:
    @task
    def from_index(x):
        if weir.context.get("task_loop_count", 1) < 20:
            raise LOOP(result=weir.context.get("task_loop_result", 0) + x)
        return weir.context.get("task_loop_result", 0) + x

    with Flow(name="looping") as f:
        inter = from_index(10)
        final = downstream(inter)

    flow_state = f.run(context={"task_loop_count": 20})

    assert flow_state.is_successful()
    assert flow_state.result[inter].result == 10
    assert flow_state.result[final].result == 100
