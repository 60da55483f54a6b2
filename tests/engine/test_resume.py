"""Resuming a mapped task: a given ``Mapped`` state's finished children do not run again.

Which children ran is read off the reporter (a child that runs reports its states,
one that is kept reports nothing), so the same tests hold on every executor; the
inline executor's tests also count calls in a list.
"""

from __future__ import annotations

from typing import Any

from weir import Flow, FlowRunner, Parameter, task
from weir.engine.reporter import InMemoryReporter
from weir.engine.state import Failed, Mapped, Pending, Skipped, State, Success
from weir.executors import Executor, LocalExecutor


@task
def items(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int) -> int:
    return x * x


@task
def plus_one(x: int) -> int:
    return x + 1


@task
def total(xs: list[Any]) -> list[Any]:
    return list(xs)


@task(skip_on_upstream_skip=False)
def total_even_skipped(xs: list[Any]) -> list[Any]:
    return list(xs)


def ran_children(reporter: InMemoryReporter, flow: Flow, t: Any) -> list[int]:
    """The map indexes of ``t``'s children that ran in this run."""
    slug = flow.slugs[t]
    return sorted(k for (s, k) in reporter.task_states if s == slug and k is not None)


def run(flow: Flow, task_states: dict[Any, State], executor: Executor, **params: Any) -> Any:
    reporter = InMemoryReporter()
    state = FlowRunner(flow, reporter=reporter).run(
        parameters=params, executor=executor, task_states=task_states, return_tasks=flow.tasks
    )
    return state, reporter


def square_flow() -> tuple[Flow, Any, Any]:
    with Flow("squares") as flow:
        n = Parameter("n", default=5)
        sq = square.map(items(n))
        out = total(sq)
    return flow, sq, out


class TestPartlyFinishedMap:
    def test_only_the_children_left_run(self, executor: Executor) -> None:
        flow, sq, out = square_flow()
        # Results that differ from what the task computes show they were kept.
        given = Mapped(map_states=[Success(result=-1), Pending(), Success(result=-3)])
        state, reporter = run(flow, {sq: given}, executor)
        assert type(state) is Success
        # The list is the front of the items: 3 and 4 had not been reached.
        assert ran_children(reporter, flow, sq) == [1, 3, 4]
        assert state.result[out].result == [-1, 1, -3, 9, 16]
        parent = state.result[sq]
        assert type(parent) is Mapped and parent.result == [-1, 1, -3, 9, 16]

    def test_finished_children_fewer_than_the_items_are_the_front(self, executor: Executor) -> None:
        # What a run stopped mid-map leaves: its first children finished, no others known.
        flow, sq, out = square_flow()
        given = Mapped(map_states=[Success(result=-1), Success(result=-2)])
        state, reporter = run(flow, {sq: given}, executor)
        assert ran_children(reporter, flow, sq) == [2, 3, 4]
        assert state.result[out].result == [-1, -2, 4, 9, 16]

    def test_calls_are_counted_on_the_inline_executor(self) -> None:
        calls: list[int] = []

        @task
        def record(x: int) -> int:
            calls.append(x)
            return x

        with Flow("f") as flow:
            r = record.map([10, 20, 30, 40])
            out = total(r)
        given = Mapped(map_states=[Success(result=10), Pending(), Success(result=30), Pending()])
        state, _ = run(flow, {r: given}, LocalExecutor())
        assert calls == [20, 40]
        assert state.result[out].result == [10, 20, 30, 40]

    def test_a_fully_finished_parent_does_not_expand_again(self, executor: Executor) -> None:
        flow, sq, out = square_flow()
        children: list[State] = [Success(result=-k) for k in range(5)]
        given = Mapped("from before", result=[c.result for c in children], map_states=children)
        state, reporter = run(flow, {sq: given}, executor)
        assert ran_children(reporter, flow, sq) == []
        assert (flow.slugs[sq], None) not in reporter.task_states  # not reported again
        assert state.result[sq] is given
        assert state.result[out].result == [0, -1, -2, -3, -4]

    def test_a_whole_parent_given_without_a_result_passes_its_childrens_on(
        self, executor: Executor
    ) -> None:
        with Flow("nested") as flow:
            sq = square.map(items(3))
            more = plus_one.map(sq)
            out = total(sq)
        given = Mapped(map_states=[Success(result=-k) for k in range(3)])
        state, reporter = run(flow, {sq: given}, executor)
        assert ran_children(reporter, flow, sq) == []
        assert state.result[out].result == [0, -1, -2]
        assert [s.result for s in state.result[more].map_states] == [1, 0, -1]

    def test_skipped_children_are_kept(self, executor: Executor) -> None:
        with Flow("squares") as flow:
            sq = square.map(items(Parameter("n")))
            out = total_even_skipped(sq)
        given = Mapped(map_states=[Skipped("skipped before"), Pending(), Success(result=-4)])
        state, reporter = run(flow, {sq: given}, executor, n=3)
        assert ran_children(reporter, flow, sq) == [1]
        assert type(state.result[sq].map_states[0]) is Skipped
        assert state.result[out].result == [None, 1, -4]

    def test_a_failed_child_given_stays_failed(self, executor: Executor) -> None:
        # As in Prefect 1: a finished state, failed or not, is not run again.
        flow, sq, _ = square_flow()
        given = Mapped(map_states=[Failed("broke before"), Pending()])
        state, reporter = run(flow, {sq: given}, executor, n=2)
        assert ran_children(reporter, flow, sq) == [1]
        assert type(state) is Failed

    def test_more_children_given_than_items_runs_every_child(self, executor: Executor) -> None:
        flow, sq, out = square_flow()
        given = Mapped(map_states=[Success(result=-1)] * 4)
        state, reporter = run(flow, {sq: given}, executor, n=3)
        assert ran_children(reporter, flow, sq) == [0, 1, 2]
        assert state.result[out].result == [0, 1, 4]

    def test_the_trace_counts_the_kept_children(self) -> None:
        flow, sq, _ = square_flow()
        given = Mapped(map_states=[Success(result=-1), Pending(), Success(result=-3)])
        _, reporter = run(flow, {sq: given}, LocalExecutor())
        mapped = [data for _, kind, _, _, data in reporter.events if kind == "task_mapped"]
        assert mapped == [{"children": 5, "kept": 2}]


class TestNestedMaps:
    def test_a_map_over_a_resumed_map_runs_only_its_own_missing_children(
        self, executor: Executor
    ) -> None:
        with Flow("nested") as flow:
            sq = square.map(items(4))
            more = plus_one.map(sq)
            out = total(more)
        given = {
            sq: Mapped(map_states=[Success(result=0), Success(result=1), Pending()]),
            more: Mapped(map_states=[Success(result=-1)]),
        }
        state, reporter = run(flow, given, executor)
        assert ran_children(reporter, flow, sq) == [2, 3]
        assert ran_children(reporter, flow, more) == [1, 2, 3]
        assert state.result[out].result == [-1, 2, 5, 10]

    def test_a_kept_child_is_not_started_by_its_upstream_child(self, executor: Executor) -> None:
        # Child 0 of the upstream runs again; child 0 downstream was kept and stays so.
        with Flow("nested") as flow:
            sq = square.map(items(2))
            more = plus_one.map(sq)
            out = total(more)
        given = {more: Mapped(map_states=[Success(result=-1), Pending()])}
        state, reporter = run(flow, given, executor)
        assert ran_children(reporter, flow, sq) == [0, 1]
        assert ran_children(reporter, flow, more) == [1]
        assert state.result[out].result == [-1, 2]


class TestNothingGiven:
    def test_a_plain_run_maps_as_before(self, executor: Executor) -> None:
        flow, sq, out = square_flow()
        state, reporter = run(flow, {}, executor)
        assert ran_children(reporter, flow, sq) == [0, 1, 2, 3, 4]
        assert state.result[out].result == [0, 1, 4, 9, 16]
        mapped = [data for _, kind, _, _, data in reporter.events if kind == "task_mapped"]
        assert mapped == [{"children": 5}]
