"""Prefect 1 idioms, ported by changing imports: the logger from the context, operators
on tasks, lists of tasks, LOOP, a state handler and keyword parameters to run()."""

from __future__ import annotations

# import prefect
# from prefect import Flow, Parameter, task
# from prefect.engine.signals import LOOP
# from prefect.engine.state import Failed
import weir as prefect
from weir import Flow, Parameter, task
from weir.engine.signals import LOOP
from weir.engine.state import Failed

failures: list[str] = []


def alert_on_failure(task, old_state, new_state):
    if isinstance(new_state, Failed):
        failures.append(task.name)
    return new_state


@task
def fibonacci(n: int) -> int:
    """The n-th Fibonacci number, one LOOP iteration per step, as Prefect 1 loops."""
    step, a, b = prefect.context.get("task_loop_result", (0, 0, 1))
    if step >= n:
        logger = prefect.context.get("logger")
        logger.info("fibonacci(%d) = %d (loop %d)", n, a, prefect.context.task_loop_count)
        return a
    raise LOOP(message=f"step {step + 1}", result=(step + 1, b, a + b))


@task
def total(numbers: list[int]) -> int:
    return sum(numbers)


@task(state_handlers=[alert_on_failure])
def check(value: int) -> int:
    if value > 100:
        raise ValueError(f"{value} is too big")
    return value


with Flow("prefect-idioms") as flow:
    n = Parameter("n", default=5)
    first = fibonacci(n)
    second = fibonacci(n + 1)  # an operator on a task builds a task
    both = total([first, second, 1])  # a list of tasks becomes one task
    checked = check(both * 2)

state = flow.run(n=7)  # parameters as keywords
print(state.result[first].result, state.result[second].result, state.result[both].result)
print(state.result[checked].result)
state = flow.run(n=10)
print(type(state).__name__, failures)
