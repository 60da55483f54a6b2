"""weir.execution.resume.keep_mapped: which mapped tasks keep their earlier children."""

from __future__ import annotations

from weir import Flow, Parameter, task
from weir.engine.state import Mapped, Pending, State, Success
from weir.execution import resume


@task
def items() -> list[int]:
    return [0, 1, 2, 3]


@task
def double(x: int) -> int:
    return 2 * x


def done(*results: int) -> dict[int, State]:
    return {k: Success(result=r) for k, r in enumerate(results)}


def test_children_of_a_map_over_a_kept_task_are_kept_by_index() -> None:
    with Flow("f") as flow:
        xs = items()
        d = double.map(xs)
    kept: dict[object, State] = {xs: Success(result=[0, 1, 2, 3])}
    resume.keep_mapped(flow, kept, {d: {0: Success(result=0), 2: Success(result=4)}})
    state = kept[d]
    assert type(state) is Mapped
    assert [type(s) for s in state.map_states] == [Success, Pending, Success]
    assert resume.counts(kept) == {"tasks_kept": 2, "children_kept": 2}


def test_a_map_over_a_parameter_keeps_its_children() -> None:
    with Flow("f") as flow:
        d = double.map(Parameter("xs"))
    kept: dict[object, State] = {}
    resume.keep_mapped(flow, kept, {d: done(0, 2)})
    assert [s.result for s in kept[d].map_states] == [0, 2]


def test_a_map_over_a_task_that_runs_again_keeps_no_child() -> None:
    # The upstream runs again and may return other items: child k may be another item.
    with Flow("f") as flow:
        d = double.map(items())
    kept: dict[object, State] = {}
    resume.keep_mapped(flow, kept, {d: done(0, 2)})
    assert kept == {}


def test_a_map_over_a_mapped_task_follows_that_task() -> None:
    with Flow("f") as flow:
        xs = items()
        d = double.map(xs)
        dd = double.map(d)
    kept: dict[object, State] = {xs: Success(result=[0, 1, 2, 3])}
    resume.keep_mapped(flow, kept, {d: done(0, 2), dd: done(0)})
    assert set(kept) == {xs, d, dd}
    # Without its upstream's children kept, none of its own are.
    kept = {}
    resume.keep_mapped(flow, kept, {d: done(0, 2), dd: done(0)})
    assert kept == {}
