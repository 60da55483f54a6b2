"""The usual `upstream_tasks` slips, and what weir says about each (at build time)."""

from __future__ import annotations

from weir import Flow, task
from weir.exceptions import FlowValidationError


@task
def extract(n: int) -> list[int]:
    return list(range(n))


@task
def cleanup() -> str:
    return "done"


@task
def load(rows: list[int]) -> int:
    return len(rows)


def attempt(title: str, build) -> None:
    print(f"## {title}")
    try:
        build()
        print("no error")
    except (FlowValidationError, TypeError) as exc:
        print(f"{type(exc).__name__}: {exc}")
    print()


def uncalled_task_that_needs_arguments():
    with Flow("pitfall"):
        rows = extract(3)
        load(rows, upstream_tasks=[extract])  # `extract`, not its call


def upstream_tasks_is_not_a_list():
    with Flow("pitfall"):
        rows = extract(3)
        cleanup(upstream_tasks=rows)  # a task, not [rows]


def a_name_instead_of_a_task():
    with Flow("pitfall"):
        extract(3)
        cleanup(upstream_tasks=["extract"])


def state_only_edge_passes_no_data():
    with Flow("pitfall"):
        rows = extract(3)
        load(upstream_tasks=[rows])  # waits for rows, but `rows=` is never given


def a_task_from_another_flow():
    with Flow("first"):
        rows = extract(3)
    with Flow("second"):
        load(rows)


def a_cycle():
    with Flow("pitfall") as flow:
        rows = extract(3)
        done = cleanup(upstream_tasks=[rows])
        flow.set_dependencies(rows, upstream_tasks=[done])


attempt("An uncalled task that needs arguments", uncalled_task_that_needs_arguments)
attempt("upstream_tasks given a task, not a list", upstream_tasks_is_not_a_list)
attempt("A task's name instead of the task", a_name_instead_of_a_task)
attempt("A state-only edge passes no data", state_only_edge_passes_no_data)
attempt("A task bound in another flow", a_task_from_another_flow)
attempt("A cycle", a_cycle)


def an_uncalled_task_already_called():
    with Flow("pitfall"):
        done = cleanup()  # noqa: F841 - the call the next line meant
        extract(3, upstream_tasks=[cleanup])  # meant: upstream_tasks=[done]


attempt("The task itself, when its call is in the flow", an_uncalled_task_already_called)

# An uncalled task that needs no arguments, and is not called elsewhere, is
# simply a task of the flow (as in Prefect 1): it runs once, before `extract`.
with Flow("fine") as flow:
    extract(3, upstream_tasks=[cleanup])
print("## An uncalled task without arguments, used only here")
print(sorted(f"{t.name} ({flow.slugs[t]})" for t in flow.tasks))
