"""Graph algorithms on plain adjacency maps; they know nothing of tasks.

>>> toposort(["a", "b", "c"], {"a": ["b"], "b": ["c"], "c": []})
['a', 'b', 'c']
>>> find_path({"a": ["b"], "b": ["a"]}, "b", "a")
['b', 'a']
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def toposort(nodes: Sequence[N], downstream: Mapping[N, Iterable[N]]) -> list[N]:
    """Kahn's algorithm; ties broken by the order of ``nodes``, so the result is stable.

    ``downstream`` maps each node to the nodes that depend on it. A cycle leaves
    nodes unsorted, which raises ValueError (callers reject cycles earlier).
    """
    order = {n: i for i, n in enumerate(nodes)}
    indegree = dict.fromkeys(nodes, 0)
    for n in nodes:
        for d in downstream.get(n, ()):
            indegree[d] += 1
    ready = [order[n] for n in nodes if indegree[n] == 0]
    heapq.heapify(ready)
    out: list[N] = []
    while ready:
        n = nodes[heapq.heappop(ready)]
        out.append(n)
        for d in downstream.get(n, ()):
            indegree[d] -= 1
            if indegree[d] == 0:
                heapq.heappush(ready, order[d])
    if len(out) != len(nodes):
        raise ValueError("The graph has a cycle.")
    return out


def find_path(downstream: Mapping[N, Iterable[N]], start: N, goal: N) -> list[N] | None:
    """A path from ``start`` to ``goal`` following ``downstream``, or None."""
    if start == goal:
        return [start]
    parent: dict[N, N] = {}
    stack = [start]
    seen = {start}
    while stack:
        n = stack.pop()
        for d in downstream.get(n, ()):
            if d in seen:
                continue
            parent[d] = n
            if d == goal:
                path = [d]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return path[::-1]
            seen.add(d)
            stack.append(d)
    return None
