"""weir.core.mapping: the unmapped, mapped and flatten markers and the edges they make.

How mapped flows run is tested in tests/engine/test_flow_runner.py (TestMapping).
"""

from __future__ import annotations

from weir import Flow, flatten, mapped, task, unmapped


@task
def nums() -> list[int]:
    return [1, 2]


@task
def add(x: int, y: int) -> int:
    return x + y


def edge_kinds(flow: Flow, t: object) -> dict[str | None, tuple[bool, bool]]:
    return {e.key: (e.mapped, e.flattened) for e in flow.edges_to(t)}  # type: ignore[arg-type]


class TestMarkers:
    def test_map_maps_every_task_argument(self) -> None:
        with Flow("f") as flow:
            a = add.map(nums(), nums())
        assert edge_kinds(flow, a) == {"x": (True, False), "y": (True, False)}

    def test_unmapped_task_argument(self) -> None:
        with Flow("f") as flow:
            a = add.map(nums(), unmapped(nums()))
        assert edge_kinds(flow, a) == {"x": (True, False), "y": (False, False)}

    def test_unmapped_constant_stays_a_constant(self) -> None:
        with Flow("f") as flow:
            a = add.map(nums(), unmapped(10))
        assert flow.constants[a] == {"y": 10}

    def test_mapped_constant_becomes_a_constant_task(self) -> None:
        with Flow("f") as flow:
            a = add.map([1, 2], unmapped(10))
        assert edge_kinds(flow, a) == {"x": (True, False)}

    def test_mapped_marker_in_a_plain_call(self) -> None:
        with Flow("f") as flow:
            a = add(mapped(nums()), 1)
        assert edge_kinds(flow, a) == {"x": (True, False)}
        assert flow.run().result[a].result == [2, 3]

    def test_flatten_marker(self) -> None:
        with Flow("f") as flow:
            a = add.map(flatten(nums()), unmapped(0))
        assert edge_kinds(flow, a) == {"x": (True, True)}

    def test_map_binds_a_copy_with_task_args(self) -> None:
        with Flow("f") as flow:
            a = add.map(nums(), unmapped(1), task_args={"name": "adder"})
        assert a is not add and a.name == "adder"
        assert add.name == "add"
        assert a in flow.tasks


class TestNestedMarkers:
    """Prefect 1 lets markers wrap one another; weir keeps the meaningful combinations."""

    def test_mapped_and_flatten_combine_into_a_flattened_map(self) -> None:
        @task
        def nested() -> list[list[int]]:
            return [[1], [2, 3]]

        with Flow("f") as flow:
            a = add.map(flatten(mapped(nested())), unmapped(10))
            b = add(mapped(flatten(nested())), 100)
        assert edge_kinds(flow, a)["x"] == (True, True)
        assert edge_kinds(flow, b)["x"] == (True, True)
        state = flow.run()
        assert state.result[a].result == [11, 12, 13]
        assert state.result[b].result == [101, 102, 103]

    def test_unmapped_with_another_marker_is_refused(self) -> None:
        import pytest

        from weir.exceptions import FlowValidationError

        with pytest.raises(FlowValidationError, match="cannot also be mapped"), Flow("f"):
            add.map(nums(), unmapped(flatten(nums())))
        with pytest.raises(FlowValidationError, match="both mapped over and passed"), Flow("f"):
            add.map(nums(), mapped(unmapped(nums())))
