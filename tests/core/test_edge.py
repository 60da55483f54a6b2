"""weir.core.edge: an edge's identity and its description."""

from __future__ import annotations

from weir import task
from weir.core.edge import Edge


@task
def up() -> int:
    return 1


@task
def down(x: int) -> int:
    return x


class TestEdge:
    def test_equal_edges_hash_alike(self) -> None:
        a, b = up.copy(), down.copy()
        assert Edge(a, b, key="x") == Edge(a, b, key="x")
        assert len({Edge(a, b, key="x"), Edge(a, b, key="x")}) == 1

    def test_key_mapped_and_flattened_are_part_of_identity(self) -> None:
        a, b = up.copy(), down.copy()
        base = Edge(a, b, key="x")
        assert base != Edge(a, b)
        assert base != Edge(a, b, key="x", mapped=True)
        assert base != Edge(a, b, key="x", mapped=True, flattened=True)

    def test_tasks_are_compared_by_identity(self) -> None:
        a, b = up.copy(), down.copy()
        assert Edge(a, b) != Edge(up.copy(), b)

    def test_repr_names_tasks_and_key(self) -> None:
        a, b = up.copy(), down.copy()
        assert repr(Edge(a, b, key="x")) == "<Edge: up -> down (key='x')>"
        assert repr(Edge(a, b, mapped=True)) == "<Edge mapped: up -> down>"
