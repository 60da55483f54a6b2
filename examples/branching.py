"""A branchy flow: a case/merge branch, a cleanup task that always runs, a failure alert.

Run it on its own with ``python examples/branching.py``.
"""

from __future__ import annotations

from weir import Flow, Parameter, case, merge, task
from weir.triggers import all_finished, any_failed


@task
def check_size(rows: int) -> bool:
    """Is the batch big enough to need the heavy path?"""
    return rows > 100


@task
def heavy_path(rows: int) -> str:
    return f"processed {rows} rows in parallel"


@task
def light_path(rows: int) -> str:
    return f"processed {rows} rows inline"


@task
def publish(summary: str) -> str:
    if "inline" in summary and "0 rows" in summary:
        raise ValueError("nothing to publish")
    return f"published: {summary}"


@task(trigger=all_finished)
def cleanup() -> str:
    """Runs whatever happened upstream."""
    return "temporary files removed"


@task(trigger=any_failed)
def alert() -> str:
    """Runs only when publishing failed."""
    return "on-call notified"


with Flow("branching") as flow:
    rows = Parameter("rows", default=42)
    big = check_size(rows)
    with case(big, True):
        heavy = heavy_path(rows)
    with case(big, False):
        light = light_path(rows)
    summary = merge(heavy, light)
    published = publish(summary)
    done = cleanup(upstream_tasks=[published])
    alerted = alert(upstream_tasks=[published])

# The flow succeeds when publishing does; the alert being skipped by its trigger is fine.
flow.set_reference_tasks([published, done])


if __name__ == "__main__":
    state = flow.run()
    for t, s in state.result.items():
        print(f"{t.name:>12}: {s}")
