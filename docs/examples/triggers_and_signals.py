"""Triggers decide whether a task runs; signals let a task choose its own state."""

from __future__ import annotations

from weir import Flow, context, signals, task, triggers


@task
def check_inbox() -> int:
    return 0


@task
def process(messages: int) -> str:
    if messages == 0:
        raise signals.SKIP("The inbox is empty; nothing to process.")
    return f"processed {messages}"


@task
def archive(summary: str) -> str:  # skipped too: a skip flows downstream
    return f"archived {summary}"


@task
def validate(rows: list[int]) -> list[int]:
    bad = [r for r in rows if r < 0]
    if bad:
        raise signals.FAIL(f"{len(bad)} rows are negative: {bad}")
    return rows


@task(trigger=triggers.any_failed)
def alert() -> str:
    return "on-call paged"


@task(trigger=triggers.all_finished, skip_on_upstream_skip=False)
def tidy() -> str:
    return "temporary files removed"


@task
def poll() -> int:
    # LOOP re-runs the task with the result in context.task_loop_result.
    seen = context.get("task_loop_result") or 0
    if seen < 3:
        raise signals.LOOP(message=f"seen {seen}", result=seen + 1)
    return seen


with Flow("signals") as flow:
    messages = check_inbox()
    summary = process(messages)
    archived = archive(summary)
    checked = validate([1, -2, 3, -4])
    paged = alert(upstream_tasks=[checked])
    tidied = tidy(upstream_tasks=[checked, archived])
    polled = poll()

state = flow.run()
for t in (summary, archived, checked, paged, tidied, polled):
    s = state.result[t]
    print(f"{t.name:<8} {s.name:<8} {s.message} (result: {s.result!r})")
# The flow's state comes from its reference tasks, by default the terminal ones
# (alert, tidy, poll): validate failed, alert handled it, so the flow succeeded.
print("reference tasks:", sorted(t.name for t in flow.reference_tasks()))
print("flow:", state)
