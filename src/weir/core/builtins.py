"""Small tasks the graph creates on its own: constants, indexing, collections.

A Python list, tuple, set or dict holding tasks, passed as a task's argument,
becomes a collection task (``List``, ``Tuple``, ``Set``, ``Dict``) upstream of it,
as in Prefect 1, so the task receives the collection of their results.
"""

from __future__ import annotations

from typing import Any

from weir.core.mapping import flatten, mapped, unmapped
from weir.core.task import Task


class Constant(Task):
    """Returns a fixed value; made for constants that are mapped over.

    Named after the value's type, as in Prefect 1, not its repr: a repr may hold a
    memory address or a set's hash order, and the name makes the slug, which must
    be the same every time the script runs.
    """

    def __init__(self, value: Any, name: str | None = None, **kwargs: Any) -> None:
        self.value = value
        super().__init__(name=name or f"Constant[{type(value).__name__}]", **kwargs)

    def run(self) -> Any:
        return self.value


class GetItem(Task):
    """``task_result[key]``: what ``some_task[key]`` makes."""

    def run(self, task_result: Any, key: Any) -> Any:
        return task_result[key]


class _Collect(Task):
    """Base of the collection tasks: its arguments are ``arg_1``, ``arg_2``…, in order."""

    def bind(self, *args: Any, **kwargs: Any) -> Task:
        # The items come positionally; run() takes them by name, as Prefect 1's do.
        items = {f"arg_{i + 1}": a for i, a in enumerate(args)}
        return super().bind(**items, **kwargs)

    @staticmethod
    def ordered(items: dict[str, Any]) -> list[Any]:
        return [v for _, v in sorted(items.items(), key=lambda kv: int(kv[0][4:]))]


class List(_Collect):
    """Collects its arguments' results into a list."""

    def run(self, **items: Any) -> list[Any]:
        return self.ordered(items)


class Tuple(_Collect):
    """Collects its arguments' results into a tuple."""

    def run(self, **items: Any) -> tuple[Any, ...]:
        return tuple(self.ordered(items))


class Set(_Collect):
    """Collects its arguments' results into a set."""

    def run(self, **items: Any) -> set[Any]:
        return set(items.values())


class Dict(Task):
    """Makes a dict from a list of keys and a list of values (results or constants)."""

    def run(self, keys: list[Any], values: list[Any]) -> dict[Any, Any]:
        if len(keys) != len(values):
            raise ValueError(
                f"Task '{self.name}': got {len(keys)} keys and {len(values)} values; "
                "a dict needs one value per key."
            )
        return dict(zip(keys, values, strict=True))


def holds_task(value: Any) -> bool:
    """True when ``value`` is a list, tuple, set or dict with a Task somewhere inside."""
    if isinstance(value, Task):
        return True
    if isinstance(value, dict):
        return any(holds_task(k) or holds_task(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(holds_task(v) for v in value)
    return False


def collection_task(value: list | tuple | set | frozenset | dict, flow: Any) -> Task:
    """A task bound in ``flow`` whose result is ``value`` with each task replaced by its result.

    What a Prefect 1 flow gets from ``t(x=[a, b])``: a ``List`` task upstream of
    ``t``, whose items are ``a``'s and ``b``'s results (nested collections nest).
    """
    if isinstance(value, dict):
        keys, values = list(value), list(value.values())
        return Dict().bind(keys=_item(keys, flow), values=_item(values, flow), flow=flow)
    kind = List if isinstance(value, list) else Tuple if isinstance(value, tuple) else Set
    return kind().bind(*(_item(v, flow) for v in value), flow=flow)


def _item(value: Any, flow: Any) -> Any:
    if not isinstance(value, Task) and holds_task(value):
        return collection_task(value, flow)
    return value


def as_task(x: Any, flow: Any = None) -> Task:
    """``x`` as a task (Prefect 1's ``as_task``): a task as it is; a list, tuple, set
    or dict holding tasks as a task that collects their results (bound in ``flow``,
    else the active one); any other value as a ``Constant``. A marker (``unmapped(x)``)
    gives the task of what it wraps."""
    if isinstance(x, Task):
        return x
    if isinstance(x, (unmapped, mapped, flatten)):
        return as_task(x.value, flow)
    if holds_task(x):
        return collection_task(x, flow)
    return Constant(x)
