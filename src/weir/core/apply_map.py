"""``apply_map``: map a function that builds tasks over its arguments (Prefect 1's).

``apply_map(func, *args, **kwargs)`` calls ``func`` once, at build time, with the
arguments as tasks, inside a ``MapScope``: every task edge made inside is mapped,
so each task ``func`` creates runs once per item of the mapped arguments, item i
of one pairing with item i of the next, ``case`` blocks included. Arguments marked
``unmapped`` are passed whole; ``flatten`` ones are flattened first. A constant
that is mapped over becomes a ``Constant`` task.

Every task made inside that has no upstream made inside gets each mapped argument
(and each unmapped task argument) as an upstream, so all children of one
``apply_map`` share its inputs and their length, as in plain Python.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from weir.core.builtins import Constant, collection_task, holds_task
from weir.core.flow import Flow, current_flow, tasks_added_since
from weir.core.mapping import MapScope, flatten, map_scope, mapped, unmapped
from weir.core.task import Task

__all__ = ["apply_map"]

_MARKERS = (unmapped, mapped, flatten)


class _Argument:
    """One argument of apply_map: what func receives, and how it is mapped."""

    __slots__ = ("given", "is_mapped", "is_flattened")

    def __init__(self, value: Any, flow: Flow) -> None:
        marker = value if isinstance(value, _MARKERS) else None
        raw = value.value if marker is not None else value
        self.is_mapped = not isinstance(marker, unmapped)
        self.is_flattened = isinstance(marker, flatten)
        if not isinstance(raw, Task) and holds_task(raw):
            raw = collection_task(raw, flow)  # a list of tasks: map over their results
        if self.is_mapped and not isinstance(raw, Task):
            if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
                raise TypeError(
                    f"apply_map() cannot map over a {type(raw).__name__} ({raw!r}); pass "
                    "tasks, lists or tuples, and wrap an argument to pass whole in unmapped()."
                )
            raw = Constant(raw)
        self.given = raw


def apply_map(func: Callable[..., Any], *args: Any, flow: Flow | None = None, **kwargs: Any) -> Any:
    """Call ``func`` (which adds tasks) elementwise over ``args``/``kwargs``; return its result.

    With ``flow=``, ``func`` must take a ``flow`` keyword too, as in Prefect 1.
    """
    target = flow if flow is not None else current_flow()
    if target is None:
        raise ValueError(
            "apply_map() could not find a flow: call it inside `with Flow(...)`, or pass flow=."
        )
    positional = [_Argument(a, target) for a in args]
    named = {k: _Argument(v, target) for k, v in kwargs.items()}
    arguments = [*positional, *named.values()]
    for a in arguments:
        if isinstance(a.given, Task):
            target.add_task(a.given)
    scope = MapScope(
        unmapped={a.given for a in arguments if not a.is_mapped},
        flattened={a.given for a in arguments if a.is_flattened},
    )
    before = set(target.task_list())
    call_args = [a.given for a in positional]
    call_kwargs = {k: a.given for k, a in named.items()}
    if flow is not None:
        call_kwargs["flow"] = flow
    # Enter the flow only when it is not the active one already (re-entering would
    # clobber its `with` token).
    active = contextlib.nullcontext() if current_flow() is target else target
    token = map_scope.set(scope)
    try:
        with active:
            result = func(*call_args, **call_kwargs)
    finally:
        map_scope.reset(token)
    _connect_roots(target, before, arguments)
    return result


def _connect_roots(flow: Flow, before: set[Task], arguments: list[_Argument]) -> None:
    """Give the entry tasks func made every task argument as an upstream (mapped as given)."""
    inputs = [a for a in arguments if isinstance(a.given, Task)]
    given = {a.given for a in inputs}
    made = [t for t in tasks_added_since(flow, before) if t not in given]
    inside = set(made)
    for t in made:
        upstream = flow.upstream_tasks(t)
        if upstream & inside:
            continue
        for a in inputs:
            if a.given not in upstream:
                flow.add_edge(a.given, t, mapped=a.is_mapped, flattened=a.is_flattened)
