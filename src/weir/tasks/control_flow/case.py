"""``with case(task, value):`` blocks: the tasks made inside run only when task's result == value.

On leaving the block, one ``CompareValue`` task is bound to ``task`` and made
upstream of the block's entry points (the tasks inside with no upstream inside);
the rest inherit the skip through their upstream tasks. Blocks nest.

Without an active ``with Flow(...)`` (the imperative API, as in Prefect 1's docs),
the block guards the tasks ``flow.add_task`` and ``task.bind(flow=...)`` add inside
it, in whichever flow they join.
"""

from __future__ import annotations

import warnings
from typing import Any

from weir.core.flow import Flow, block_members, current_flow, tasks_added_since, watching_added
from weir.core.task import Task
from weir.tasks.control_flow.conditional import CompareValue

__all__ = ["case"]


class case:
    """``with case(task, value):`` — the tasks inside run only when task's result == value."""

    def __init__(self, task: Task | Any, value: Any) -> None:
        # A constant in place of the task is compared as it is, as in Prefect 1.
        if isinstance(value, Task):
            raise TypeError(
                f"case() value must be a constant to compare with, not the task "
                f"'{value.name}'; compare two results in a task of your own."
            )
        self.task = task
        self.value = value
        self._flow: Flow | None = None
        self._before: set[Task] = set()
        #: Without an active flow: what flows got while the block ran (watching_added).
        self._watch: Any = None
        self._added: list[tuple[Flow, Task]] = []

    def __enter__(self) -> case:
        flow = current_flow()
        if flow is None:
            # The imperative API, as in Prefect 1: no active flow, so the block learns
            # which tasks `flow.add_task` / `task.bind(flow=...)` put inside it.
            self._watch = watching_added()
            self._added = self._watch.__enter__()
            return self
        self._flow = flow
        self._before = set(flow.task_list())
        return self

    def __exit__(self, *exc: Any) -> None:
        flow = self._flow
        if flow is None:
            self._watch.__exit__(*exc)
            by_flow: dict[Flow, list[Task]] = {}
            for added_to, task in self._added:
                by_flow.setdefault(added_to, []).append(task)
            guarded = {f: block_members(added) for f, added in by_flow.items()}
            if not any(guarded.values()) and exc[0] is None:
                warnings.warn(
                    "case() was used outside a `with Flow(...)` block and no task joined a "
                    "flow inside it, so it guards nothing: add the tasks with "
                    "flow.add_task(...) or task.bind(..., flow=flow) inside it, or use it "
                    "inside `with Flow(...)`.",
                    UserWarning,
                    stacklevel=2,
                )
            for added_to, children in guarded.items():
                self._guard(added_to, children)
            return
        self._guard(flow, tasks_added_since(flow, self._before))

    def _guard(self, flow: Flow, children: list[Task]) -> None:
        """Make the block's tasks in ``flow`` run only when the condition holds."""
        if not children:
            return
        inside = set(children)
        cond = CompareValue(self.value, name=f"case({self.value!r})")
        cond.bind(value=self.task, flow=flow)
        for child in children:
            # Only the block's entry points need the condition; the rest inherit the skip.
            if not (flow.upstream_tasks(child) & inside):
                # Not add_edge: inside apply_map, set_dependencies maps the condition too.
                flow.set_dependencies(child, upstream_tasks=[cond])
