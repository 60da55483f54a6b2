"""Branches decided by a task's result: ``switch``, ``ifelse`` and ``merge``.

A branch is a ``CompareValue`` task upstream of the task it guards: it skips when
the condition's result differs from its value, and the skip flows down the
branch. ``merge`` is the one task that runs after skipped branches: its trigger
is ``not_all_skipped`` and it does not skip on an upstream skip.
"""

from __future__ import annotations

from typing import Any

from weir.core.flow import Flow, current_flow
from weir.core.task import Task, _resolve_flow, tags
from weir.engine.signals import SKIP
from weir.engine.triggers import not_all_skipped
from weir.exceptions import FlowValidationError

__all__ = ["CompareValue", "Merge", "ifelse", "merge", "switch"]


class CompareValue(Task):
    """Skips (and so skips what hangs under it) unless its input equals ``value``."""

    def __init__(self, value: Any, **kwargs: Any) -> None:
        self.value = value
        kwargs.setdefault("name", f'CompareValue: "{value}"')
        super().__init__(**kwargs)

    def run(self, value: Any) -> None:
        if value != self.value:
            raise SKIP(f"Provided value {value!r} did not match {self.value!r}.")


class AsBool(Task):
    """``bool(x)``: what ``ifelse`` branches on."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("name", "as_bool")
        super().__init__(**kwargs)

    def run(self, x: Any) -> bool:
        return bool(x)


class Merge(Task):
    """Returns the first result that is not None (the branch that ran)."""

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.setdefault("skip_on_upstream_skip", False):
            raise FlowValidationError(
                "Merge tasks must have skip_on_upstream_skip=False: they run after the "
                "branches that skipped. Drop the option."
            )
        kwargs.setdefault("trigger", not_all_skipped)
        kwargs.setdefault("name", "merge")
        super().__init__(**kwargs)

    def run(self, **task_results: Any) -> Any:
        ordered = sorted(task_results.items(), key=lambda kv: int(kv[0][4:]))
        return next((v for _, v in ordered if v is not None), None)


def merge(*tasks: Task, flow: Flow | None = None, mapped: bool = False, **kwargs: Any) -> Task:
    """A task whose result is the first non-skipped of ``tasks``' results.

    ``kwargs`` go to the Merge task (``name``, ``tags``…); ``mapped=True`` merges
    mapped branches child by child.
    """
    if not tasks:
        raise FlowValidationError("merge() needs at least one task.")
    arguments = {f"task{i + 1}": t for i, t in enumerate(tasks)}
    return Merge(**kwargs).bind(**arguments, flow=flow, mapped=mapped)


def switch(condition: Task, cases: dict[Any, Task], mapped: bool = False) -> None:
    """Run the task in ``cases`` whose key equals ``condition``'s result; skip the others.

    Each case task gets a ``CompareValue`` upstream (tagged ``switch``); tasks
    downstream of a skipped case skip too unless they set ``skip_on_upstream_skip=False``.
    """
    if not isinstance(condition, Task):
        raise FlowValidationError(
            f"switch() needs a task whose result is compared, got {type(condition).__name__}; "
            "for a constant condition use plain Python `if`."
        )
    flow = current_flow() or _resolve_flow(condition, None)
    for value, branch in cases.items():
        if not isinstance(branch, Task):
            raise FlowValidationError(
                f"switch() case {value!r} must be a task, got {type(branch).__name__} "
                f"({branch!r}); call the task in the flow and pass its result."
            )
        with tags("switch"):
            match = CompareValue(value).bind(value=condition, mapped=mapped, flow=flow)
        flow.set_dependencies(branch, upstream_tasks=[match], mapped=mapped)


def ifelse(
    condition: Task, true_task: Task | None, false_task: Task | None, mapped: bool = False
) -> None:
    """Run ``true_task`` if ``condition``'s result is truthy, else ``false_task``.

    The one that does not run ends Skipped, and so do the tasks below it that
    skip on an upstream skip. Either task may be None: no branch for that case.
    """
    cases = {v: t for v, t in ((True, true_task), (False, false_task)) if t is not None}
    if not cases:
        return
    if not isinstance(condition, Task):
        raise FlowValidationError(
            f"ifelse() needs a task whose result is tested, got {type(condition).__name__}; "
            "for a constant condition use plain Python `if`."
        )
    flow = current_flow() or _resolve_flow(condition, None)
    as_bool = AsBool().bind(x=condition, mapped=mapped, flow=flow)
    switch(as_bool, cases, mapped=mapped)
