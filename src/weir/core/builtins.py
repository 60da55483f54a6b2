"""Small tasks the graph creates on its own: constants, indexing, comparisons."""

from __future__ import annotations

from typing import Any

from weir.core.task import Task


class Constant(Task):
    """Returns a fixed value; made for constants that are mapped over."""

    def __init__(self, value: Any, name: str | None = None, **kwargs: Any) -> None:
        self.value = value
        super().__init__(name=name or _short_repr(value), **kwargs)

    def run(self) -> Any:
        return self.value


class GetItem(Task):
    """``task_result[key]``: what ``some_task[key]`` makes."""

    def run(self, task_result: Any, key: Any) -> Any:
        return task_result[key]


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + "..."
