"""``with case(task, value):`` blocks: the tasks made inside run only when task's result == value.

On leaving the block, one ``CompareValue`` task is bound to ``task`` and made
upstream of the block's entry points (the tasks inside with no upstream inside);
the rest inherit the skip through their upstream tasks. Blocks nest.
"""

from __future__ import annotations

from typing import Any

from weir.core.flow import Flow, current_flow, tasks_added_since
from weir.core.task import Task
from weir.exceptions import FlowValidationError
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

    def __enter__(self) -> case:
        flow = current_flow()
        if flow is None:
            raise FlowValidationError("case() must be used inside a `with Flow(...)` block.")
        self._flow = flow
        self._before = set(flow.task_list())
        return self

    def __exit__(self, *exc: Any) -> None:
        flow = self._flow
        assert flow is not None
        children = tasks_added_since(flow, self._before)
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
