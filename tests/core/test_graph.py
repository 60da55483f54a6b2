"""weir.core.graph: toposort and find_path on plain adjacency maps."""

from __future__ import annotations

import pytest

from weir.core.graph import find_path, toposort


class TestToposort:
    def test_chain(self) -> None:
        assert toposort(["c", "b", "a"], {"a": ["b"], "b": ["c"]}) == ["a", "b", "c"]

    def test_ties_follow_the_order_of_nodes(self) -> None:
        assert toposort(["x", "a", "m"], {}) == ["x", "a", "m"]
        assert toposort(["r", "q", "p"], {"r": ["p"], "q": ["p"]}) == ["r", "q", "p"]

    def test_diamond_is_stable_across_calls(self) -> None:
        down = {"a": ["c", "b"], "b": ["d"], "c": ["d"]}
        nodes = ["a", "b", "c", "d"]
        first = toposort(nodes, down)
        assert first == ["a", "b", "c", "d"]
        assert all(toposort(nodes, down) == first for _ in range(5))

    def test_every_edge_points_forward(self) -> None:
        nodes = list(range(30))
        down = {n: [m for m in nodes if m > n and (m * n) % 7 == 1] for n in nodes}
        order = toposort(nodes[::-1], down)
        pos = {n: i for i, n in enumerate(order)}
        assert sorted(order) == nodes
        assert all(pos[n] < pos[m] for n, ms in down.items() for m in ms)

    def test_cycle_raises(self) -> None:
        with pytest.raises(ValueError, match="cycle"):
            toposort(["a", "b"], {"a": ["b"], "b": ["a"]})


class TestFindPath:
    def test_direct_and_indirect(self) -> None:
        down = {"a": ["b"], "b": ["c"], "c": []}
        assert find_path(down, "a", "b") == ["a", "b"]
        assert find_path(down, "a", "c") == ["a", "b", "c"]

    def test_no_path(self) -> None:
        assert find_path({"a": ["b"]}, "b", "a") is None

    def test_start_is_goal(self) -> None:
        assert find_path({}, "a", "a") == ["a"]

    def test_branches(self) -> None:
        down = {"a": ["x", "b"], "x": ["y"], "b": ["goal"]}
        assert find_path(down, "a", "goal") == ["a", "b", "goal"]
