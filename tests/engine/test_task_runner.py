"""weir.engine.task_runner: one class per step of the TaskRunner pipeline, then run() whole."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest

from weir import Flow, Task, context, signals, task, triggers
from weir.context import FlowContext
from weir.core.edge import Edge
from weir.engine.reporter import InMemoryReporter
from weir.engine.state import (
    Cached,
    Cancelled,
    Failed,
    Looped,
    Mapped,
    Paused,
    Pending,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Submitted,
    Success,
    TimedOut,
    TriggerFailed,
)
from weir.engine.task_runner import TaskRunner
from weir.executors import Executor

FINISHED = [Success, Cached, Mapped, Skipped, Failed, TriggerFailed, TimedOut, Cancelled]
UNFINISHED = [Pending, Scheduled, Retrying, Paused, Submitted, Running]


@task
def up() -> int:
    return 1


@task
def add(x: int, y: int = 0) -> int:
    return x + y


def edge(key: str | None = None, downstream: Task | None = None) -> Edge:
    return Edge(up.copy(), downstream or add.copy(), key=key)


def flow_ctx(**kw: Any) -> FlowContext:
    return FlowContext(flow_name="f", flow_run_id="run-1", **kw)


class TestCheckTaskIsReady:
    @pytest.mark.parametrize(
        "cls",
        [c for c in FINISHED + UNFINISHED if not issubclass(c, Pending)],
        ids=lambda c: c.__name__,
    )
    def test_a_state_that_is_not_pending_is_returned_without_running(
        self, cls: type[State]
    ) -> None:
        calls: list[int] = []

        @task
        def spy() -> None:
            calls.append(1)

        given = cls("given")
        assert TaskRunner(spy).run(state=given) is given
        assert calls == []

    @pytest.mark.parametrize("cls", [Pending, Scheduled, Paused], ids=lambda c: c.__name__)
    def test_pending_states_run(self, cls: type[State]) -> None:
        assert TaskRunner(up).run(state=cls()).result == 1

    def test_retrying_runs_as_the_next_attempt(self) -> None:
        @task
        def count() -> int:
            return context.task_run_count

        assert TaskRunner(count).run(state=Retrying(run_count=2)).result == 3


class TestCheckUpstreamFinished:
    @pytest.mark.parametrize("cls", FINISHED, ids=lambda c: c.__name__)
    def test_finished_upstream_passes(self, cls: type[State]) -> None:
        TaskRunner(add).check_upstream_finished({edge(): cls()})

    @pytest.mark.parametrize("cls", UNFINISHED, ids=lambda c: c.__name__)
    def test_unfinished_upstream_ends_pending(self, cls: type[State]) -> None:
        with pytest.raises(signals.ENDRUN) as end:
            TaskRunner(add).check_upstream_finished({edge(): Success(), edge(): cls()})
        assert type(end.value.state) is Pending

    @pytest.mark.parametrize("cls", UNFINISHED, ids=lambda c: c.__name__)
    def test_run_with_unfinished_upstream_does_not_call_the_task(self, cls: type[State]) -> None:
        calls: list[int] = []

        @task
        def spy() -> None:
            calls.append(1)

        assert type(TaskRunner(spy).run(upstream_states={edge(): cls()})) is Pending
        assert calls == []


class TestCheckUpstreamSkipped:
    def test_skipped_upstream_skips(self) -> None:
        with pytest.raises(signals.ENDRUN) as end:
            TaskRunner(add).check_upstream_skipped({edge(): Success(), edge(): Skipped()})
        assert type(end.value.state) is Skipped
        assert "skip_on_upstream_skip=False" in (end.value.state.message or "")

    @pytest.mark.parametrize("cls", [c for c in FINISHED if c is not Skipped])
    def test_other_states_pass(self, cls: type[State]) -> None:
        TaskRunner(add).check_upstream_skipped({edge(): cls()})

    def test_opt_out(self) -> None:
        t = add.copy(skip_on_upstream_skip=False)
        TaskRunner(t).check_upstream_skipped({edge(): Skipped()})

    def test_skipped_child_of_a_mapped_upstream_skips_a_reducing_task(self) -> None:
        mapped = Mapped(map_states=[Success(result=1), Skipped()], result=[1, None])
        with pytest.raises(signals.ENDRUN) as end:
            TaskRunner(add).check_upstream_skipped({edge("x"): mapped})
        assert type(end.value.state) is Skipped


class TestCheckTrigger:
    def test_default_trigger_is_all_successful(self) -> None:
        assert TaskRunner(add).trigger is triggers.all_successful

    @pytest.mark.parametrize(
        ("trigger", "states", "expected"),
        [
            (triggers.all_successful, [Success(), Failed()], TriggerFailed),
            (triggers.all_failed, [Success()], TriggerFailed),
            (triggers.not_all_skipped, [Skipped()], Skipped),
            (triggers.manual_only, [Success()], Paused),
        ],
    )
    def test_trigger_signal_becomes_the_final_state(
        self, trigger: Any, states: list[State], expected: type[State]
    ) -> None:
        runner = TaskRunner(add.copy(trigger=trigger))
        with pytest.raises(signals.ENDRUN) as end:
            runner.check_trigger({edge(): s for s in states})
        assert type(end.value.state) is expected

    def test_passing_trigger_returns(self) -> None:
        TaskRunner(add.copy(trigger=triggers.any_failed)).check_trigger({edge(): Failed()})

    def test_mapped_upstream_is_judged_by_its_children(self) -> None:
        mapped = Mapped(map_states=[Success(), Failed()])
        with pytest.raises(signals.ENDRUN) as end:
            TaskRunner(add).check_trigger({edge("x"): mapped})
        assert type(end.value.state) is TriggerFailed


class TestGetInputs:
    def test_constants_and_upstream_results_by_key(self) -> None:
        runner = TaskRunner(add, constants={"y": 10})
        inputs = runner.get_inputs({edge("x"): Success(result=5), edge(None): Success(result=9)})
        assert inputs == {"x": 5, "y": 10}

    def test_no_upstream_gives_constants(self) -> None:
        assert TaskRunner(add, constants={"x": 1}).get_inputs({}) == {"x": 1}

    def test_constants_are_not_mutated(self) -> None:
        runner = TaskRunner(add, constants={"y": 10})
        runner.get_inputs({edge("x"): Success(result=5)})
        assert runner.constants == {"y": 10}


@pytest.mark.usefixtures("clean_cache")
class TestCheckCachedAndCacheResult:
    def test_second_run_is_cached_with_the_first_result(self) -> None:
        calls: list[int] = []

        @task(cache_for=dt.timedelta(minutes=1))
        def expensive() -> int:
            calls.append(1)
            return len(calls)

        runner = TaskRunner(expensive, slug="expensive-1")
        first = runner.run(context={"flow_name": "f"})
        second = runner.run(context={"flow_name": "f"})
        assert type(first) is Cached and first.result == 1
        assert type(second) is Cached and second.result == 1
        assert second.message == "Task was cached by a previous run."
        assert calls == [1]

    def test_expired_cache_runs_again(self) -> None:
        calls: list[int] = []

        @task(cache_for=0.05)
        def expensive() -> int:
            calls.append(1)
            return len(calls)

        runner = TaskRunner(expensive)
        runner.run()
        time.sleep(0.1)
        assert runner.run().result == 2

    def test_cache_result_records_inputs_and_expiry(self) -> None:
        runner = TaskRunner(add.copy(cache_for=dt.timedelta(seconds=30)))
        before = time.time()
        cached = runner.cache_result(Success(result=3), {"x": 3}, flow_ctx(parameters={"p": 1}))
        assert isinstance(cached, Cached)
        assert cached.cached_inputs == {"x": 3}
        assert cached.cached_parameters == {"p": 1}
        assert cached.cached_result_expiration is not None
        assert cached.cached_result_expiration >= before + 30

    def test_validator_decides(self) -> None:
        from weir.engine.cache_validators import all_inputs

        t = add.copy(cache_for=dt.timedelta(minutes=1), cache_validator=all_inputs)
        runner = TaskRunner(t, constants={"x": 1})
        runner.run()
        with pytest.raises(signals.ENDRUN) as end:
            runner.check_cached({"x": 1}, FlowContext())
        assert type(end.value.state) is Cached
        runner.check_cached({"x": 2}, FlowContext())  # other inputs: no hit

    def test_cache_key_is_shared_between_tasks(self) -> None:
        a = up.copy(cache_for=dt.timedelta(minutes=1), cache_key="shared")
        b = task(cache_for=dt.timedelta(minutes=1), cache_key="shared")(lambda: 99)
        assert TaskRunner(a).run().result == 1
        assert TaskRunner(b).run().result == 1


class TestRunTask:
    def test_return_value_is_the_result(self) -> None:
        s = TaskRunner(add).run_task({"x": 2, "y": 3}, None, Running(), InMemoryReporter())
        assert type(s) is Success and s.result == 5

    def test_exception_becomes_failed_with_the_exception(self) -> None:
        @task
        def boom() -> None:
            raise KeyError("k")

        s = TaskRunner(boom).run_task({}, None, Running(), InMemoryReporter())
        assert type(s) is Failed
        assert isinstance(s.result, KeyError)
        assert "KeyError" in (s.message or "")

    def test_timeout_becomes_timed_out(self) -> None:
        @task(timeout=0.1)
        def slow() -> None:
            time.sleep(2)

        s = TaskRunner(slow).run()
        assert type(s) is TimedOut

    def test_async_task(self) -> None:
        @task
        async def later(x: int) -> int:
            await asyncio.sleep(0.01)
            return x * 2

        assert type(TaskRunner(later).run()) is Failed  # x is missing
        runner = TaskRunner(later, constants={"x": 4})
        assert runner.run().result == 8

    def test_loop_reruns_with_count_and_result(self) -> None:
        seen: list[tuple[Any, Any]] = []

        @task
        def fib(n: int) -> int:
            count = context.task_loop_count
            payload = context.task_loop_result or {"a": 0, "b": 1}
            seen.append((count, payload))
            if (count or 1) < n:
                raise signals.LOOP(result={"a": payload["b"], "b": payload["a"] + payload["b"]})
            return payload["a"]

        reporter = InMemoryReporter()
        runner = TaskRunner(fib, constants={"n": 6}, reporter=reporter, slug="fib-1")
        s = runner.run()
        assert s.result == 5
        assert [c for c, _ in seen] == [None, 2, 3, 4, 5, 6]
        history = reporter.task_states[("fib-1", None)]
        # As in Prefect 1, each call of the loop is a run of its own: Running again.
        assert [type(x).__name__ for x in history] == [
            "Running",
            *["Looped", "Running"] * 5,
            "Success",
        ]
        loops = [x for x in history if isinstance(x, Looped)]
        assert [x.loop_count for x in loops] == [1, 2, 3, 4, 5]

    def test_log_stdout_turns_prints_into_log_records(self) -> None:
        @task(log_stdout=True)
        def chatty() -> int:
            print("line one")
            print("line two")
            return 1

        reporter = InMemoryReporter()
        from weir.engine import logs

        logs.install()
        TaskRunner(chatty, reporter=reporter, slug="chatty-1").run()
        messages = [r["message"] for slug, _, r in reporter.logs if slug == "chatty-1"]
        assert messages == ["line one", "line two"]


class TestCheckForRetry:
    @pytest.mark.parametrize("cls", [Failed, TimedOut], ids=lambda c: c.__name__)
    def test_failure_with_retries_left_is_retrying(self, cls: type[State]) -> None:
        runner = TaskRunner(add.copy(max_retries=2, retry_delay=5))
        before = time.time()
        s = runner.check_for_retry(cls("no", result=ValueError()), run_count=1)
        assert isinstance(s, Retrying)
        assert s.run_count == 1
        assert s.start_ts is not None and s.start_ts >= before + 5
        assert "attempt 1 of 3" in (s.message or "")

    def test_last_attempt_keeps_the_failure(self) -> None:
        runner = TaskRunner(add.copy(max_retries=2, retry_delay=5))
        failed = Failed("no")
        assert runner.check_for_retry(failed, run_count=3) is failed

    @pytest.mark.parametrize("cls", [Success, Skipped, Cached, Mapped], ids=lambda c: c.__name__)
    def test_other_states_are_not_retried(self, cls: type[State]) -> None:
        runner = TaskRunner(add.copy(max_retries=2, retry_delay=5))
        s = cls()
        assert runner.check_for_retry(s, run_count=1) is s

    def test_every_kind_of_failed_is_retried(self) -> None:
        # As in Prefect 1's check_for_retry: a TriggerFailed reaches it only when the
        # task raised TRIGGERFAIL itself (a trigger not met ends the run before it).
        runner = TaskRunner(add.copy(max_retries=2, retry_delay=5))
        assert isinstance(runner.check_for_retry(TriggerFailed(), run_count=1), Retrying)

    def test_no_retries_configured(self) -> None:
        failed = Failed()
        assert TaskRunner(add).check_for_retry(failed, run_count=1) is failed


class TestStateHandlers:
    def test_task_handlers_see_every_transition_in_order(self) -> None:
        seen: list[tuple[str, str]] = []

        def handler(t: Task, old: State, new: State) -> None:
            seen.append((old.name, new.name))

        TaskRunner(add.copy(state_handlers=[handler]), constants={"x": 1}).run()
        assert seen == [("Pending", "Running"), ("Running", "Success")]

    def test_handler_may_replace_the_state(self) -> None:
        def to_skipped(t: Task, old: State, new: State) -> State | None:
            return Skipped("replaced") if isinstance(new, Success) else None

        s = TaskRunner(add.copy(state_handlers=[to_skipped]), constants={"x": 1}).run()
        assert type(s) is Skipped and s.message == "replaced"

    def test_handlers_chain(self) -> None:
        order: list[str] = []

        def first(t: Task, old: State, new: State) -> State:
            order.append("first")
            return Failed("from first") if isinstance(new, Success) else new

        def second(t: Task, old: State, new: State) -> None:
            order.append(f"second saw {new.name}")

        t = add.copy(state_handlers=[first, second])
        s = TaskRunner(t, constants={"x": 1}).run()
        assert type(s) is Failed
        assert order[-2:] == ["first", "second saw Failed"]

    def test_runner_handlers_run_after_the_tasks(self) -> None:
        order: list[str] = []
        t = add.copy(state_handlers=[lambda t, o, n: order.append("task")])
        TaskRunner(
            t, state_handlers=[lambda t, o, n: order.append("runner")], constants={"x": 1}
        ).run()
        assert order == ["task", "runner", "task", "runner"]

    def test_handler_that_raises_fails_the_task_and_says_so(self) -> None:
        def broken(t: Task, old: State, new: State) -> None:
            if isinstance(new, Success):
                raise RuntimeError("handler bug")

        s = TaskRunner(add.copy(state_handlers=[broken]), constants={"x": 1}).run()
        assert type(s) is Failed
        assert "state handlers" in (s.message or "") and "handler bug" in (s.message or "")
        assert isinstance(s.result, RuntimeError)

    @pytest.mark.parametrize("replacement", ["raise", "skip"])
    def test_handler_that_replaces_running_stops_the_run(self, replacement: str) -> None:
        calls: list[int] = []

        def handler(t: Task, old: State, new: State) -> State | None:
            if isinstance(new, Running):
                if replacement == "raise":
                    raise RuntimeError("no running today")
                return Skipped("not now")
            return None

        @task(state_handlers=[handler])
        def spy() -> None:
            calls.append(1)

        reporter = InMemoryReporter()
        s = TaskRunner(spy, reporter=reporter, slug="spy-1").run()
        assert calls == []
        expected = Failed if replacement == "raise" else Skipped
        assert type(s) is expected
        assert [type(x) for x in reporter.task_states[("spy-1", None)]] == [expected]

    def test_on_failure_is_called_once_with_the_failed_state(self) -> None:
        calls: list[tuple[str, str]] = []

        @task(on_failure=lambda t, s: calls.append((t.name, s.name)))
        def boom() -> None:
            raise ValueError("x")

        TaskRunner(boom).run()
        assert calls == [("boom", "Failed")]

    def test_on_failure_not_called_on_success(self) -> None:
        calls: list[Any] = []
        t = add.copy(on_failure=lambda t, s: calls.append(s))
        TaskRunner(t, constants={"x": 1}).run()
        assert calls == []


class TestRun:
    def test_reporter_gets_every_state_and_trace(self) -> None:
        reporter = InMemoryReporter()
        TaskRunner(add, reporter=reporter, slug="add-1", constants={"x": 1}).run()
        assert [s.name for s in reporter.task_states[("add-1", None)]] == ["Running", "Success"]
        kinds = [e[1] for e in reporter.events]
        assert kinds[0] == "task_started"

    def test_context_arguments(self) -> None:
        @task
        def who() -> dict[str, Any]:
            return {
                "flow_name": context.flow_name,
                "task_name": context.task_name,
                "task_run_count": context.task_run_count,
                "map_index": context.map_index,
                "parameters": context.parameters,
                "extra": context.get("custom"),
            }

        s = TaskRunner(who).run(
            context={
                "flow_name": "f",
                "task_run_count": 2,
                "map_index": 3,
                "parameters": {"p": 1},
                "custom": "yes",
            }
        )
        assert s.result == {
            "flow_name": "f",
            "task_name": "who",
            "task_run_count": 2,
            "map_index": 3,
            "parameters": {"p": 1},
            "extra": "yes",
        }

    def test_upstream_results_reach_the_task(self) -> None:
        t = add.copy()
        s = TaskRunner(t).run(
            upstream_states={
                Edge(up, t, key="x"): Success(result=2),
                Edge(up, t, key="y"): Success(result=3),
            }
        )
        assert s.result == 5

    def test_missing_argument_fails_the_run(self) -> None:
        s = TaskRunner(add).run()
        assert type(s) is Failed and isinstance(s.result, TypeError)

    def test_repr(self) -> None:
        assert repr(TaskRunner(add)) == "<TaskRunner: add>"


def test_raise_on_exception_lets_a_task_s_error_leave_flow_run(executor: Executor) -> None:
    # Prefect 1's debugging switch, as its own tests use it.
    from weir.utilities.debug import raise_on_exception

    @task
    def divide() -> float:
        return 1 / 0

    with Flow("debug") as flow:
        divide()
    with raise_on_exception(), pytest.raises(ZeroDivisionError):
        flow.run(executor=executor)
    with pytest.raises(ZeroDivisionError):
        flow.run(executor=executor, context={"raise_on_exception": True})
    assert flow.run(executor=executor).is_failed()  # off again once the block ends
