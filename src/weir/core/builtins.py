"""Small tasks the graph creates on its own: constants, indexing, comparisons."""

from __future__ import annotations

from typing import Any

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
