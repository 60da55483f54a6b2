"""Branching: ``case(task, value)`` blocks and ``merge(...)``.

Tasks created inside ``with case(cond, True):`` run only when ``cond``'s result
equals the value; otherwise they end ``Skipped``, and the skip flows downstream
(unless a task sets ``skip_on_upstream_skip=False``). ``merge(a, b)`` takes the
result of whichever branch ran.
"""

from __future__ import annotations

from typing import Any

from weir.core.flow import Flow, current_flow
from weir.core.task import Task
from weir.exceptions import FlowValidationError

__all__ = ["CompareValue", "Merge", "case", "merge"]


class CompareValue(Task):
    """Skips (and so skips what hangs under it) unless its input equals ``value``."""

    def __init__(self, value: Any, **kwargs: Any) -> None:
        self.value = value
        super().__init__(**kwargs)

    def run(self, value: Any) -> None:
        if value != self.value:
            # Imported here: the graph layer needs the engine only when a branch runs.
            from weir.engine.signals import SKIP

            raise SKIP(f"Provided value {value!r} did not match {self.value!r}.")


class case:
    """``with case(task, value):`` — the tasks inside run only when task's result == value."""

    def __init__(self, task: Task, value: Any) -> None:
        if not isinstance(task, Task):
            raise FlowValidationError(
                f"case() needs a task whose result is compared, got {type(task).__name__}; "
                "for a constant condition use plain Python `if`."
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
        children = [t for t in flow.task_list() if t not in self._before]
        if not children:
            return
        inside = set(children)
        cond = CompareValue(self.value, name=f"case({self.value!r})")
        cond.bind(value=self.task, flow=flow)
        for child in children:
            # Only the block's entry points need the condition; the rest inherit the skip.
            if not (flow.upstream_tasks(child) & inside):
                flow.add_edge(cond, child)


class Merge(Task):
    """Returns the first result that is not None (the branch that ran)."""

    def __init__(self, **kwargs: Any) -> None:
        from weir.engine.triggers import not_all_skipped  # see CompareValue.run

        kwargs.setdefault("trigger", not_all_skipped)
        kwargs.setdefault("skip_on_upstream_skip", False)
        super().__init__(**kwargs)

    def run(self, **task_results: Any) -> Any:
        ordered = sorted(task_results.items(), key=lambda kv: int(kv[0][4:]))
        return next((v for _, v in ordered if v is not None), None)


def merge(*tasks: Task, flow: Flow | None = None) -> Task:
    """A task whose result is the first non-skipped of ``tasks``' results."""
    if not tasks:
        raise FlowValidationError("merge() needs at least one task.")
    return Merge(name="merge").bind(**{f"task{i + 1}": t for i, t in enumerate(tasks)}, flow=flow)
