"""Edges: one dependency between two tasks, optionally carrying data under a key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weir.core.task import Task


class Edge:
    """``upstream`` must finish before ``downstream``; ``key`` names the argument it feeds.

    ``mapped`` edges fan the downstream task out over the upstream's result;
    ``flattened`` ones first flatten a list of lists by one level.
    """

    __slots__ = ("upstream_task", "downstream_task", "key", "mapped", "flattened")

    def __init__(
        self,
        upstream_task: Task,
        downstream_task: Task,
        key: str | None = None,
        mapped: bool = False,
        flattened: bool = False,
    ) -> None:
        self.upstream_task = upstream_task
        self.downstream_task = downstream_task
        self.key = key
        self.mapped = mapped
        self.flattened = flattened

    def _tuple(self) -> tuple[Any, ...]:
        return (self.upstream_task, self.downstream_task, self.key, self.mapped, self.flattened)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Edge):
            return NotImplemented
        return self._tuple() == other._tuple()

    def __hash__(self) -> int:
        return hash(self._tuple())

    def __repr__(self) -> str:
        key = f" (key={self.key!r})" if self.key else ""
        kind = " mapped" if self.mapped else ""
        return f"<Edge{kind}: {self.upstream_task.name} -> {self.downstream_task.name}{key}>"
