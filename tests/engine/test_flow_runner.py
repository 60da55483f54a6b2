"""weir.engine.flow_runner: driving a flow's DAG, on every executor in the shared fixture."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from weir import (
    Flow,
    FlowRunner,
    Parameter,
    Task,
    case,
    context,
    flatten,
    merge,
    signals,
    task,
    unmapped,
)
from weir.engine.reporter import InMemoryReporter
from weir.engine.state import (
    Cancelled,
    Failed,
    Looped,
    Mapped,
    Pending,
    Retrying,
    Running,
    Skipped,
    State,
    Success,
    TriggerFailed,
)
from weir.executors import DaskExecutor, Executor, LocalExecutor, ProcessExecutor, ThreadExecutor
from weir.utilities.waiting import wait_until


@task
def one() -> int:
    return 1


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def double(x: int) -> int:
    return 2 * x


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def boom() -> None:
    raise ValueError("boom")


def history(reporter: InMemoryReporter, flow: Flow, t: Task, k: int | None = None) -> list[str]:
    return [s.name for s in reporter.task_states[(flow.slugs[t], k)]]


def kinds(reporter: InMemoryReporter, kind: str) -> list[tuple[str | None, int | None]]:
    return [(e[2], e[3]) for e in reporter.events if e[1] == kind]


class TestRunResult:
    def test_flow_state_result_maps_every_task(self, executor: Executor) -> None:
        with Flow("f") as flow:
            p = Parameter("p", default=1)
            a = inc(p)
            b = add(a, 10)
        state = flow.run(parameters={"p": 5}, executor=executor)
        assert isinstance(state, Success)
        assert state.message == "All reference tasks succeeded."
        assert set(state.result) == set(flow.tasks)
        assert state.result[b].result == 16

    def test_failure_in_a_terminal_task_fails_the_flow(self, executor: Executor) -> None:
        with Flow("f") as flow:
            one()
            b = boom()
        state = flow.run(executor=executor)
        assert isinstance(state, Failed)
        assert isinstance(state.result[b].result, ValueError)

    def test_downstream_of_a_failure_is_trigger_failed(self, executor: Executor) -> None:
        with Flow("f") as flow:
            b = boom()
            after = inc(b)
            after2 = inc(after)
        state = flow.run(executor=executor)
        assert type(state.result[after]) is TriggerFailed
        assert type(state.result[after2]) is TriggerFailed

    def test_flow_runner_directly(self, executor: Executor) -> None:
        with Flow("f") as flow:
            a = inc(1)
        state = FlowRunner(flow).run(executor=executor, return_tasks=[a])
        assert state.result[a].result == 2

    def test_empty_flow_succeeds(self, executor: Executor) -> None:
        assert isinstance(Flow("empty").run(executor=executor), Success)

    def test_flow_can_run_twice(self, executor: Executor) -> None:
        with Flow("f") as flow:
            p = Parameter("p", default=1)
            a = inc(p)
        assert flow.run(executor=executor).result[a].result == 2
        assert flow.run(parameters={"p": 2}, executor=executor).result[a].result == 3

    def test_changes_after_a_run_are_seen_by_the_next_run(self, executor: Executor) -> None:
        with Flow("f") as flow:
            a = one()
        flow.run(executor=executor)
        b = inc.copy()
        flow.add_edge(a, b, key="x")
        state = flow.run(executor=executor)
        assert state.result[b].result == 2
        flow.set_reference_tasks([a])
        c = boom.copy()
        flow.add_task(c)
        assert isinstance(flow.run(executor=executor), Success)  # c is no reference task

    def test_flow_executor_is_the_default(self) -> None:
        seen: list[str] = []

        @task
        def where() -> None:
            seen.append(threading.current_thread().name)

        from weir.executors import ThreadExecutor

        with Flow("f", executor=ThreadExecutor(1)) as flow:
            where()
        flow.run()
        assert seen[0].startswith("weir-task")


class TestScheduling:
    def test_task_is_submitted_after_its_upstreams_finish(self, executor: Executor) -> None:
        reporter = InMemoryReporter()
        with Flow("f") as flow:
            a = one()
            b = inc(a)
            c = inc(a)
            d = add(b, c)
        flow.run(executor=executor, reporter=reporter)
        order: list[tuple[str, str | None]] = [
            (e[1], e[2]) for e in reporter.events if e[1] in ("task_submitted", "task_finished")
        ]
        s = flow.slugs

        def at(kind: str, t: Task) -> int:
            return order.index((kind, s[t]))

        for up, down in [(a, b), (a, c), (b, d), (c, d)]:
            assert at("task_finished", up) < at("task_submitted", down)

    def test_independent_tasks_run_concurrently_on_threads(self) -> None:
        from weir.executors import ThreadExecutor

        barrier = threading.Barrier(2, timeout=5)

        @task
        def meet() -> bool:
            barrier.wait()  # only returns once both tasks are in flight together
            return True

        with Flow("f") as flow:
            a, b = meet(), meet()
        state = flow.run(executor=ThreadExecutor(2))
        assert state.result[a].result and state.result[b].result

    def test_long_chain(self, executor: Executor) -> None:
        with Flow("chain") as flow:
            x = one()
            for _ in range(300):
                x = inc(x)
        assert flow.run(executor=executor).result[x].result == 301


class TestReferenceTasks:
    def test_failed_non_reference_task_does_not_fail_the_flow(self, executor: Executor) -> None:
        with Flow("f") as flow:
            boom()
            ok = one()
        flow.set_reference_tasks([ok])
        assert isinstance(flow.run(executor=executor), Success)

    def test_failed_reference_task_fails_the_flow(self, executor: Executor) -> None:
        with Flow("f") as flow:
            b = boom()
            ok = inc(one())
            inc(ok)
        flow.set_reference_tasks([b])
        assert isinstance(flow.run(executor=executor), Failed)

    def test_non_terminal_reference_task(self, executor: Executor) -> None:
        with Flow("f") as flow:
            a = one()
            inc(a, upstream_tasks=[boom()])
        flow.set_reference_tasks([a])
        assert isinstance(flow.run(executor=executor), Success)


class TestRetries:
    def test_retries_until_success(self, executor: Executor) -> None:
        @task(max_retries=3, retry_delay=0.05)
        def flaky() -> int:
            if context.task_run_count < 3:
                raise RuntimeError("not yet")
            return context.task_run_count

        reporter = InMemoryReporter()
        with Flow("f") as flow:
            f = flaky()
            after = inc(f)
        state = flow.run(executor=executor, reporter=reporter)
        assert state.result[f].result == 3
        assert state.result[after].result == 4
        assert history(reporter, flow, f) == [
            "Running",
            "Retrying",
            "Running",
            "Retrying",
            "Running",
            "Success",
        ]
        retries = [e for e in reporter.events if e[1] == "task_retry_scheduled"]
        assert [e[4]["run_count"] for e in retries] == [1, 2]  # type: ignore[index]

    def test_calls_are_counted(self, shared_memory_executor: Executor) -> None:
        calls: list[int] = []

        @task(max_retries=2, retry_delay=0.01)
        def flaky() -> int:
            calls.append(context.task_run_count)
            if len(calls) < 2:
                raise RuntimeError("not yet")
            return len(calls)

        with Flow("f") as flow:
            f = flaky()
        assert flow.run(executor=shared_memory_executor).result[f].result == 2
        assert calls == [1, 2]

    def test_gives_up_after_max_retries(self, executor: Executor) -> None:
        @task(max_retries=2, retry_delay=0.01)
        def hopeless() -> None:
            raise RuntimeError(f"attempt {context.task_run_count}")

        reporter = InMemoryReporter()
        with Flow("f") as flow:
            h = hopeless()
        state = flow.run(executor=executor, reporter=reporter)
        assert type(state.result[h]) is Failed
        assert "attempt 3" in (state.result[h].message or "")
        assert history(reporter, flow, h).count("Running") == 3

    def test_retry_is_not_started_before_its_start_time(self, executor: Executor) -> None:
        @task(max_retries=1, retry_delay=0.2)
        def flaky() -> None:
            if context.task_run_count == 1:
                raise RuntimeError("once")

        reporter = InMemoryReporter()
        with Flow("f") as flow:
            f = flaky()
        flow.run(executor=executor, reporter=reporter)
        states = reporter.task_states[(flow.slugs[f], None)]
        assert [s.name for s in states] == ["Running", "Retrying", "Running", "Success"]
        retrying = states[1]
        assert isinstance(retrying, Retrying) and retrying.start_ts is not None
        assert states[2].ts >= retrying.start_ts

    def test_other_tasks_run_while_a_retry_waits(self, shared_memory_executor: Executor) -> None:
        executor = shared_memory_executor
        order: list[str] = []

        @task(max_retries=1, retry_delay=0.2)
        def flaky() -> None:
            order.append("flaky")
            if order.count("flaky") == 1:
                raise RuntimeError("once")

        @task
        def other() -> None:
            order.append("other")

        with Flow("f") as flow:
            flaky()
            other()
        flow.run(executor=executor)
        if isinstance(executor, LocalExecutor):
            assert order == ["flaky", "other", "flaky"]  # the inline loop did not sleep first
        else:
            assert sorted(order) == ["flaky", "flaky", "other"]

    def test_mapped_children_retry_on_their_own(self, executor: Executor) -> None:
        @task(max_retries=1, retry_delay=0.01)
        def flaky(x: int) -> tuple[int, int]:
            if x == 2 and context.task_run_count == 1:
                raise RuntimeError("first try of 2")
            return x, context.task_run_count

        with Flow("f") as flow:
            m = flaky.map([1, 2, 3])
        state = flow.run(executor=executor)
        assert state.result[m].result == [(1, 1), (2, 2), (3, 1)]


class TestAsyncTasks:
    def test_async_def_task(self, executor: Executor) -> None:
        @task
        async def fetch(x: int) -> int:
            await asyncio.sleep(0.01)
            return x * 10

        with Flow("f") as flow:
            a = fetch(2)
            b = inc(a)
            m = fetch.map([1, 2])
        state = flow.run(executor=executor)
        assert state.result[a].result == 20
        assert state.result[b].result == 21
        assert state.result[m].result == [10, 20]

    def test_flow_run_from_async_code(self) -> None:
        @task
        async def fetch() -> int:
            await asyncio.sleep(0)
            return 7

        with Flow("f") as flow:
            a = fetch()

        async def main() -> State:
            return flow.run()

        assert asyncio.run(main()).result[a].result == 7


class TestLoop:
    def test_loop_reruns_with_new_inputs(self, executor: Executor) -> None:
        @task
        def countdown(start: int) -> list[int]:
            seen = context.task_loop_result or []
            n = start - (context.task_loop_count or 1) + 1
            if n > 0:
                raise signals.LOOP(f"at {n}", result=[*seen, n])
            return seen

        reporter = InMemoryReporter()
        with Flow("f") as flow:
            c = countdown(3)
            after = total(c)
        state = flow.run(executor=executor, reporter=reporter)
        assert state.result[c].result == [3, 2, 1]
        assert state.result[after].result == 6
        # As in Prefect 1, each call of the loop runs again: Running after each Looped.
        assert history(reporter, flow, c) == ["Running", *["Looped", "Running"] * 3, "Success"]
        looped = [s for s in reporter.task_states[(flow.slugs[c], None)] if isinstance(s, Looped)]
        assert [s.loop_count for s in looped] == [1, 2, 3]
        assert [s.message for s in looped] == ["at 3", "at 2", "at 1"]
        assert len(kinds(reporter, "task_looped")) == 3


class TestStateHandlers:
    def test_task_and_flow_handlers_see_transitions_in_order(
        self, shared_memory_executor: Executor
    ) -> None:
        executor = shared_memory_executor
        seen: list[tuple[str, str, str]] = []
        lock = threading.Lock()

        def on_task(t: Task, old: State, new: State) -> None:
            with lock:
                seen.append((t.name, old.name, new.name))

        def on_flow(f: Flow, old: State, new: State) -> None:
            with lock:
                seen.append((f"flow {f.name}", old.name, new.name))

        a_task = one.copy(state_handlers=[on_task])
        b_task = inc.copy(state_handlers=[on_task])
        with Flow("f", state_handlers=[on_flow]) as flow:
            b_task(a_task())
        flow.run(executor=executor)
        assert seen == [
            ("flow f", "Scheduled", "Running"),  # Prefect 1's flow.run starts Scheduled
            ("one", "Pending", "Running"),
            ("one", "Running", "Success"),
            ("inc", "Pending", "Running"),
            ("inc", "Running", "Success"),
            ("flow f", "Running", "Success"),
        ]

    def test_flow_handler_may_replace_the_final_state(self, executor: Executor) -> None:
        def fail_it(f: Flow, old: State, new: State) -> State | None:
            return Failed("handler says no") if isinstance(new, Success) else None

        with Flow("f", state_handlers=[fail_it]) as flow:
            one()
        state = flow.run(executor=executor)
        assert type(state) is Failed and state.message == "handler says no"

    def test_flow_handler_that_raises_fails_the_flow(self, executor: Executor) -> None:
        def broken(f: Flow, old: State, new: State) -> None:
            if new.is_finished():
                raise RuntimeError("handler bug")

        with Flow("f", state_handlers=[broken]) as flow:
            a = one()
        state = flow.run(executor=executor)
        assert type(state) is Failed
        assert "handler bug" in (state.message or "")
        assert state.result[a].result == 1  # the task states are still there

    def test_flow_handler_that_refuses_running_runs_nothing(self, executor: Executor) -> None:
        ran: list[int] = []

        @task
        def spy() -> None:
            ran.append(1)

        def refuse(f: Flow, old: State, new: State) -> State | None:
            return Cancelled("not today") if isinstance(new, Running) else None

        with Flow("f", state_handlers=[refuse]) as flow:
            spy()
        state = flow.run(executor=executor)
        assert type(state) is Cancelled and ran == []

    def test_task_handler_that_raises_fails_the_task(self, executor: Executor) -> None:
        def broken(t: Task, old: State, new: State) -> None:
            if isinstance(new, Success):
                raise RuntimeError("handler bug")

        with Flow("f") as flow:
            a = one.copy(state_handlers=[broken])()
            b = inc(a)
        state = flow.run(executor=executor)
        assert type(state.result[a]) is Failed
        assert "state handlers" in (state.result[a].message or "")
        assert type(state.result[b]) is TriggerFailed

    def test_on_failure_for_tasks_and_flows(self, shared_memory_executor: Executor) -> None:
        executor = shared_memory_executor
        calls: list[tuple[str, str]] = []
        lock = threading.Lock()

        def note(obj: Any, state: State) -> None:
            with lock:
                calls.append((obj.name, state.name))

        failing = boom.copy(on_failure=note)
        with Flow("f", on_failure=note) as flow:
            failing()
            one.copy(on_failure=note)()
        flow.run(executor=executor)
        assert sorted(calls) == [("boom", "Failed"), ("f", "Failed")]

    def test_runner_state_handlers(self, executor: Executor) -> None:
        seen: list[str] = []
        with Flow("f") as flow:
            one()
        FlowRunner(flow, state_handlers=[lambda f, o, n: seen.append(n.name)]).run(
            executor=executor
        )
        assert seen == ["Running", "Success"]


class TestSkips:
    def test_skip_propagates_downstream(self, executor: Executor) -> None:
        @task
        def skipper() -> int:
            raise signals.SKIP("not today")

        @task(skip_on_upstream_skip=False)
        def runs_anyway(x: Any) -> str:
            return f"ran with {x!r}"

        with Flow("f") as flow:
            s = skipper()
            d1 = inc(s)
            d2 = inc(d1)
            anyway = runs_anyway(s)
        state = flow.run(executor=executor)
        assert type(state.result[s]) is Skipped
        assert type(state.result[d1]) is Skipped
        assert type(state.result[d2]) is Skipped
        # As in Prefect 1, a task that raised SKIP has the signal as its result.
        assert state.result[anyway].result == "ran with SKIP('not today')"
        assert isinstance(state, Success)

    def test_state_only_dependency_on_a_skipped_task_skips(self, executor: Executor) -> None:
        @task
        def skipper() -> None:
            raise signals.SKIP()

        with Flow("f") as flow:
            o = one(upstream_tasks=[skipper()])
        assert type(flow.run(executor=executor).result[o]) is Skipped

    def test_reduce_over_a_mapped_task_with_a_skipped_child(self, executor: Executor) -> None:
        @task
        def odd_only(x: int) -> int:
            if x % 2 == 0:
                raise signals.SKIP("even")
            return x

        @task(skip_on_upstream_skip=False)
        def keep_results(xs: list[Any]) -> list[int]:
            # A child that raised SKIP has the signal as its result (Prefect 1).
            return [x for x in xs if not isinstance(x, signals.SKIP)]

        with Flow("f") as flow:
            m = odd_only.map([1, 2, 3])
            strict = total(m)
            lenient = keep_results(m)
        state = flow.run(executor=executor)
        assert [s.name for s in state.result[m].map_states] == ["Success", "Skipped", "Success"]
        assert type(state.result[strict]) is Skipped
        assert state.result[lenient].result == [1, 3]


class TestCaseMerge:
    @pytest.mark.parametrize("flag", [True, False])
    def test_branches(self, executor: Executor, flag: bool) -> None:
        @task
        def condition(flag: bool) -> bool:
            return flag

        @task
        def yes() -> str:
            return "yes"

        @task
        def no() -> str:
            return "no"

        with Flow("f") as flow:
            cond = condition(Parameter("flag", default=True))
            with case(cond, True):
                y = yes()
            with case(cond, False):
                n = no()
            m = merge(y, n)
        state = flow.run(parameters={"flag": flag}, executor=executor)
        assert state.result[m].result == ("yes" if flag else "no")
        assert type(state.result[n if flag else y]) is Skipped


class TestReporter:
    def test_every_state_change_and_trace_event(self, executor: Executor) -> None:
        reporter = InMemoryReporter()
        with Flow("f") as flow:
            p = Parameter("p", default=1)
            a = inc(p)
            m = double.map([1, 2])
        flow.run(executor=executor, reporter=reporter)
        assert [s.name for s in reporter.flow_states] == ["Running", "Success"]
        assert history(reporter, flow, p) == ["Success"]
        assert history(reporter, flow, a) == ["Running", "Success"]
        assert history(reporter, flow, m) == ["Mapped"]
        assert history(reporter, flow, m, 0) == ["Running", "Success"]
        assert history(reporter, flow, m, 1) == ["Running", "Success"]
        event_kinds = [e[1] for e in reporter.events]
        assert event_kinds[:2] == ["flow_run_started", "executor_started"]
        assert event_kinds[-1] == "flow_run_finished"
        s = flow.slugs
        for kind in ("task_submitted", "task_started", "task_finished"):
            assert set(kinds(reporter, kind)) >= {(s[a], None), (s[m], 0), (s[m], 1)}
        assert kinds(reporter, "task_mapped") == [(s[m], None)]
        assert all(isinstance(e[0], float) for e in reporter.events)

    def test_the_end_is_traced_before_the_final_state_is_reported(self) -> None:
        # So that a reporter writing flow-run states at once (the API's) sends the end's
        # event with the final state, in the run's last request.
        said: list[str] = []

        class Ordered(InMemoryReporter):
            def flow_run_state(self, state: State) -> None:
                said.append(f"state {state.name}")
                super().flow_run_state(state)

            def trace(self, kind: str, *args: Any, **kwargs: Any) -> None:
                said.append(kind)
                super().trace(kind, *args, **kwargs)

        with Flow("f") as flow:
            inc(1)
        flow.run(reporter=Ordered())
        assert said[-2:] == ["flow_run_finished", "state Success"]

    def test_task_finished_event_carries_the_state(self, executor: Executor) -> None:
        reporter = InMemoryReporter()
        with Flow("f") as flow:
            b = boom()
        flow.run(executor=executor, reporter=reporter)
        finished = [e for e in reporter.events if e[1] == "task_finished"]
        assert [(e[2], e[4]) for e in finished] == [(flow.slugs[b], {"state": "Failed"})]


@task
def hold_a_while(i: int, marks: str) -> int:
    """Leave a mark when started, then take longer than the runner takes to see a cancel."""
    (Path(marks) / str(i)).touch()
    time.sleep(2.0)
    return i


class TestCancellation:
    def test_cancel_ends_the_flow_cancelled(self, shared_memory_executor: Executor) -> None:
        executor = shared_memory_executor
        reporter = InMemoryReporter()
        ran: list[str] = []

        @task
        def first() -> int:
            ran.append("first")
            reporter.cancel()
            return 1

        @task
        def second(x: int) -> int:
            ran.append("second")
            return x

        with Flow("f") as flow:
            a = first()
            b = second(a)
        state = flow.run(executor=executor, reporter=reporter)
        assert type(state) is Cancelled
        assert ran == ["first"]
        assert type(state.result[a]) is Success
        assert not state.result[b].is_finished()
        assert "cancel_requested" in [e[1] for e in reporter.events]
        assert reporter.flow_states[-1].is_cancelled()

    # Dask's scheduler gives each single-threaded worker up to two tasks at a time (its
    # worker saturation): those are the workers' own, and finish; the backlog does not.
    @pytest.mark.parametrize(
        ("name", "workers", "given_out"), [("threads", 4, 4), ("processes", 2, 2), ("dask", 2, 4)]
    )
    def test_cancel_stops_what_is_queued_and_lets_what_runs_finish(
        self,
        name: str,
        workers: int,
        given_out: int,
        request: pytest.FixtureRequest,
        tmp_path: Path,
    ) -> None:
        executor: Executor = {
            "threads": lambda: ThreadExecutor(max_workers=4),
            "processes": lambda: ProcessExecutor(max_workers=2),
            "dask": lambda: DaskExecutor(address=request.getfixturevalue("dask_cluster_address")),
        }[name]()
        reporter = InMemoryReporter()

        def cancel_once_one_runs() -> None:
            wait_until(lambda: any(tmp_path.iterdir()), 60, interval=0.02)
            reporter.cancel()

        with Flow("backlog") as flow:
            hold_a_while.map(list(range(3 * workers)), marks=unmapped(str(tmp_path)))
        canceller = threading.Thread(target=cancel_once_one_runs)
        canceller.start()
        state = flow.run(executor=executor, reporter=reporter)
        canceller.join()
        assert type(state) is Cancelled
        # What was running when the cancellation came finished; the backlog never started.
        started = sorted(int(p.name) for p in tmp_path.iterdir())
        assert 1 <= len(started) <= given_out < 3 * workers
        children = {k: h[-1] for (_, k), h in reporter.task_states.items() if k is not None}
        assert sorted(k for k, s in children.items() if type(s) is Success) == started
        assert all(not s.is_finished() for k, s in children.items() if k not in started)

    def test_cancel_while_a_retry_waits(self, shared_memory_executor: Executor) -> None:
        executor = shared_memory_executor
        reporter = InMemoryReporter()

        @task(max_retries=5, retry_delay=0.1)
        def flaky() -> None:
            if context.task_run_count == 2:
                reporter.cancel()
            raise RuntimeError("again")

        with Flow("f") as flow:
            f = flaky()
        state = flow.run(executor=executor, reporter=reporter)
        assert type(state) is Cancelled
        assert type(state.result[f]) in (Retrying, Pending)


class TestMapping:
    def test_map_over_a_list(self, executor: Executor) -> None:
        with Flow("f") as flow:
            m = double.map([1, 2, 3])
        state = flow.run(executor=executor)
        mapped = state.result[m]
        assert type(mapped) is Mapped
        assert mapped.result == [2, 4, 6]
        assert [s.result for s in mapped.map_states] == [2, 4, 6]

    def test_map_index_in_context(self, executor: Executor) -> None:
        @task
        def where(x: int) -> tuple[int, int | None]:
            return x, context.map_index

        with Flow("f") as flow:
            m = where.map([10, 20, 30])
        assert flow.run(executor=executor).result[m].result == [(10, 0), (20, 1), (30, 2)]

    def test_map_over_a_task_result_with_unmapped(self, executor: Executor) -> None:
        @task
        def nums() -> list[int]:
            return [1, 2, 3]

        with Flow("f") as flow:
            base = one()
            m = add.map(nums(), unmapped(base))
            m2 = add.map(nums(), unmapped(100))
        state = flow.run(executor=executor)
        assert state.result[m].result == [2, 3, 4]
        assert state.result[m2].result == [101, 102, 103]

    def test_map_zips_several_mapped_arguments_to_the_shortest(self, executor: Executor) -> None:
        with Flow("f") as flow:
            m = add.map([1, 2, 3], [10, 20])
        assert flow.run(executor=executor).result[m].result == [11, 22]

    def test_empty_list_maps_to_no_children_and_downstream_runs(self, executor: Executor) -> None:
        @task
        def nothing() -> list[int]:
            return []

        with Flow("f") as flow:
            m = double.map(nothing())
            m2 = double.map(m)
            t = total(m2)
        state = flow.run(executor=executor)
        assert type(state.result[m]) is Mapped
        assert state.result[m].map_states == []
        assert state.result[m2].map_states == []
        assert state.result[t].result == 0
        assert isinstance(state, Success)

    def test_map_over_a_mapped_task_then_reduce(self, executor: Executor) -> None:
        with Flow("f") as flow:
            m1 = double.map([1, 2, 3])
            m2 = inc.map(m1)
            r = total(m2)
        state = flow.run(executor=executor)
        assert state.result[m2].result == [3, 5, 7]
        assert state.result[r].result == 15

    def test_flatten(self, executor: Executor) -> None:
        @task
        def nested() -> list[list[int]]:
            return [[1, 2], [], [3]]

        @task
        def split(x: int) -> list[int]:
            return [x] * x

        with Flow("f") as flow:
            f1 = double.map(flatten(nested()))
            per = split.map([1, 2])
            f2 = double.map(flatten(per))
        state = flow.run(executor=executor)
        assert state.result[f1].result == [2, 4, 6]
        assert state.result[f2].result == [2, 4, 4]

    def test_failed_child_fails_the_flow_and_not_its_siblings(self, executor: Executor) -> None:
        @task
        def picky(x: int) -> int:
            if x == 2:
                raise ValueError("no twos")
            return x

        with Flow("f") as flow:
            m = picky.map([1, 2, 3])
            after = inc.map(m)
        state = flow.run(executor=executor)
        assert [s.name for s in state.result[m].map_states] == ["Success", "Failed", "Success"]
        assert [s.name for s in state.result[after].map_states] == [
            "Success",
            "TriggerFailed",
            "Success",
        ]
        assert isinstance(state, Failed)

    def test_mapping_over_a_non_list_fails_with_the_fix(self, executor: Executor) -> None:
        with Flow("f") as flow:
            m = double.map(one())
        state = flow.run(executor=executor)
        assert type(state.result[m]) is Failed
        assert "has no length" in (state.result[m].message or "")
        assert "unmapped" in (state.result[m].message or "")

    def test_mapping_over_a_dict_fails_with_the_fix_not_a_key_error(
        self, executor: Executor
    ) -> None:
        # Prefect 1 cannot map over a dict either, but ends the run Failed; weir raised
        # KeyError(0) out of flow.run().
        with Flow("f") as flow:
            m = double.map({"a": 1, "b": 2})
        state = flow.run(executor=executor)
        assert isinstance(state, Failed)
        message = state.result[m].message or ""
        assert type(state.result[m]) is Failed
        assert "is a dict" in message and "list(d.items())" in message

    def test_mapping_over_a_failed_upstream(self, executor: Executor) -> None:
        @task
        def broken() -> list[int]:
            raise ValueError("no list")

        with Flow("f") as flow:
            m = double.map(broken())
        assert type(flow.run(executor=executor).result[m]) is TriggerFailed

    def test_mapping_over_a_skipped_upstream(self, executor: Executor) -> None:
        @task
        def skipped() -> list[int]:
            raise signals.SKIP()

        with Flow("f") as flow:
            m = double.map(skipped())
        assert type(flow.run(executor=executor).result[m]) is Skipped


@pytest.mark.usefixtures("clean_cache")
class TestCaching:
    def test_second_run_uses_the_cache(self, shared_memory_executor: Executor) -> None:
        executor = shared_memory_executor
        import datetime as dt

        calls: list[int] = []

        @task(cache_for=dt.timedelta(minutes=1))
        def expensive() -> int:
            calls.append(1)
            return 42

        with Flow("cached") as flow:
            e = expensive()
            after = inc(e)
        first = flow.run(executor=executor)
        second = flow.run(executor=executor)
        assert first.result[after].result == second.result[after].result == 43
        assert type(second.result[e]).__name__ == "Cached"
        assert calls == [1]

    def test_mapped_children_cache_their_own_results(self, executor: Executor) -> None:
        import datetime as dt

        @task(cache_for=dt.timedelta(minutes=1))
        def expensive(x: int) -> int:
            return x * 10

        with Flow("cached-map") as flow:
            m = expensive.map([1, 2, 3])
        assert flow.run(executor=executor).result[m].result == [10, 20, 30]
        assert flow.run(executor=executor).result[m].result == [10, 20, 30]


class TestTerminalStateHandler:
    def test_may_replace_the_final_state(self, executor: Executor) -> None:
        seen: list[Any] = []

        def forgive(flow: Flow, state: State, reference_states: set[State]) -> State | None:
            seen.append((flow.name, state.name, sorted(s.name for s in reference_states)))
            if isinstance(state, Failed):
                return Success("Failures were expected.", result=state.result)
            return None

        with Flow("f", terminal_state_handler=forgive) as flow:
            one()
            boom()
        state = flow.run(executor=executor)
        assert type(state) is Success and state.message == "Failures were expected."
        assert seen == [("f", "Failed", ["Failed", "Success"])]

    def test_returning_none_keeps_the_state(self, executor: Executor) -> None:
        with Flow("f", terminal_state_handler=lambda f, s, r: None) as flow:
            one()
        assert type(flow.run(executor=executor)) is Success


class TestGivenTaskStates:
    def test_finished_states_are_used_instead_of_running(self, executor: Executor) -> None:
        calls: list[str] = []

        @task
        def expensive() -> int:
            calls.append("expensive")
            return 1

        with Flow("f") as flow:
            e = expensive()
            after = inc(e)
        state = FlowRunner(flow).run(
            executor=executor,
            task_states={e: Success("from before", result=41)},
            return_tasks=flow.tasks,
        )
        assert calls == []
        assert state.result[e].message == "from before"
        assert state.result[after].result == 42


class TestMappedSignals:
    def test_loop_in_mapped_children(self, executor: Executor) -> None:
        @task
        def looper(n: int) -> tuple[int, int | None]:
            count = context.task_loop_count or 1
            if count < n:
                raise signals.LOOP(result=count)
            return count, context.map_index

        with Flow("f") as flow:
            m = looper.map([1, 2, 3])
        assert flow.run(executor=executor).result[m].result == [(1, 0), (2, 1), (3, 2)]

    def test_skipped_child_skips_only_its_own_chain(self, executor: Executor) -> None:
        @task
        def not_two(x: int) -> int:
            if x == 2:
                raise signals.SKIP("two")
            return x

        with Flow("f") as flow:
            s = not_two.map([1, 2, 3])
            d = inc.map(s)
        state = flow.run(executor=executor)
        assert [c.name for c in state.result[d].map_states] == ["Success", "Skipped", "Success"]
        assert [c.result for c in state.result[d].map_states] == [2, None, 4]


def test_prepare_builds_the_plan_and_task_runners_the_next_run_uses() -> None:
    from weir.engine.plan import plan_for

    with Flow("prepared") as flow:
        inc(one())
    assert getattr(flow, "_run_plan", None) is None
    FlowRunner(flow).prepare()
    plan = plan_for(flow)
    assert flow._run_plan is plan  # type: ignore[attr-defined]
    [runners] = plan.runners.values()
    assert [r.slug for r in runners if r is not None] == ["one-1", "inc-1"]
    assert FlowRunner(flow).run().is_successful()
    assert plan_for(flow) is plan and list(plan.runners.values()) == [runners]  # not rebuilt
