"""weir.engine.signals: each signal carries a state, and raising it in a task ends there."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from weir import Flow, context, signals, task
from weir.engine.state import (
    Failed,
    Looped,
    Paused,
    Retrying,
    Skipped,
    State,
    Success,
    TriggerFailed,
    ValidationFailed,
)
from weir.engine.task_runner import TaskRunner
from weir.executors import Executor

SIGNAL_STATES: list[tuple[type[BaseException], type[State]]] = [
    (signals.SUCCESS, Success),
    (signals.FAIL, Failed),
    (signals.TRIGGERFAIL, TriggerFailed),
    (signals.VALIDATIONFAIL, ValidationFailed),
    (signals.RETRY, Retrying),
    (signals.SKIP, Skipped),
    (signals.LOOP, Looped),
    (signals.PAUSE, Paused),
]


class TestSignalObjects:
    @pytest.mark.parametrize(("sig", "cls"), SIGNAL_STATES, ids=lambda x: x.__name__)
    def test_signal_carries_its_state_and_message(
        self, sig: type[signals.WeirStateSignal], cls: type[State]
    ) -> None:
        raised = sig("why")
        assert type(raised.state) is cls
        assert raised.state.message == "why"
        assert raised.message == "why"
        assert str(raised) == "why"
        assert isinstance(raised, signals.WeirSignal)

    def test_result_keyword(self) -> None:
        assert signals.SUCCESS(result=3).state.result == 3
        assert signals.SKIP(result=4).state.result == 4
        raised = signals.SKIP("no")
        assert raised.state.result is raised  # Prefect 1: the signal, when no result=
        assert signals.LOOP(result={"n": 1}).state.result == {"n": 1}
        assert signals.SKIP("none", result=None).state.result is None  # given, so kept

    def test_fail_without_result_keeps_the_signal_as_result(self) -> None:
        raised = signals.FAIL("boom")
        assert raised.state.result is raised

    def test_success_without_result_keeps_the_signal_as_result(self) -> None:
        raised = signals.SUCCESS("done already")
        assert raised.state.result is raised  # Prefect 1, as for SKIP and FAIL

    def test_validationfail_is_a_failed_the_server_stores_as_failed(self) -> None:
        state = signals.VALIDATIONFAIL("bad rows").state
        assert state.is_failed() and state.name == "ValidationFailed"
        assert state.to_dict()["type"] == "Failed"

    def test_retry_start_time(self) -> None:
        raised = signals.RETRY("later", start_time=123.0)
        assert raised.state.start_ts == 123.0
        when = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
        assert signals.RETRY("later", start_time=when).state.start_time == when

    def test_endrun_carries_any_state(self) -> None:
        s = Skipped("done here")
        assert signals.ENDRUN(s).state is s

    def test_public_module_reexports(self) -> None:
        import weir.signals

        for name in ("SUCCESS", "FAIL", "RETRY", "SKIP", "ENDRUN", "LOOP", "PAUSE"):
            assert getattr(weir.signals, name) is getattr(signals, name)


def run_raising(exc: BaseException, **task_kwargs: Any) -> State:
    @task(**task_kwargs)
    def raiser() -> None:
        raise exc

    return TaskRunner(raiser).run()


class TestSignalsRaisedInTasks:
    def test_success_with_result(self) -> None:
        s = run_raising(signals.SUCCESS("fine", result=42))
        assert type(s) is Success and s.result == 42 and s.message == "fine"

    def test_fail(self) -> None:
        s = run_raising(signals.FAIL("no good"))
        assert type(s) is Failed and s.message == "no good"

    def test_fail_retries_like_an_error(self) -> None:
        s = run_raising(signals.FAIL("no good"), max_retries=1, retry_delay=0.1)
        assert type(s) is Retrying

    @pytest.mark.parametrize("sig", [signals.TRIGGERFAIL, signals.VALIDATIONFAIL])
    def test_the_failed_kinds_a_task_raises_are_retried_too(self, sig: type) -> None:
        # As in Prefect 1: every Failed the run ends in is retried (only a trigger that
        # is not met, before the run, is not).
        s = run_raising(sig("not yet"), max_retries=1, retry_delay=0.1)
        assert type(s) is Retrying

    def test_a_trigger_not_met_is_not_retried(self) -> None:
        from weir.triggers import all_failed

        @task
        def work() -> int:
            return 1

        @task(max_retries=2, retry_delay=0.1, trigger=all_failed)
        def cleanup(x: int) -> None:
            pass

        with Flow("trigger-not-met") as flow:
            done = cleanup(work())
        assert type(flow.run().result[done]) is TriggerFailed

    def test_skip(self) -> None:
        s = run_raising(signals.SKIP("nothing to do"))
        assert type(s) is Skipped and s.message == "nothing to do"

    def test_retry_ignores_max_retries(self) -> None:
        before = time.time()
        s = run_raising(signals.RETRY("again"))
        assert isinstance(s, Retrying)
        assert s.start_ts is not None and s.start_ts >= before

    def test_endrun_ends_with_its_state_and_skips_retries(self) -> None:
        s = run_raising(
            signals.ENDRUN(Failed("stop here")),
            max_retries=3,
            retry_delay=0.1,
        )
        assert type(s) is Failed and s.message == "stop here"

    def test_endrun_with_a_non_failed_state(self) -> None:
        s = run_raising(signals.ENDRUN(Skipped("custom")))
        assert type(s) is Skipped and s.message == "custom"

    def test_pause(self) -> None:
        assert type(run_raising(signals.PAUSE("wait"))) is Paused

    def test_loop_runs_again_until_it_returns(self) -> None:
        @task
        def count_to_three() -> int:
            n = context.get("task_loop_count", 1)
            if n < 3:
                raise signals.LOOP(result=n)
            return n

        s = TaskRunner(count_to_three).run()
        assert type(s) is Success and s.result == 3


class TestSignalsInFlows:
    def test_every_signal_in_one_flow(self, executor: Executor) -> None:
        @task
        def succeed() -> None:
            raise signals.SUCCESS(result="early")

        @task
        def fail() -> None:
            raise signals.FAIL("failed on purpose")

        @task
        def retry_once() -> int:
            if context.task_run_count == 1:
                raise signals.RETRY("once more", start_time=time.time() + 0.05)
            return context.task_run_count

        @task
        def skip() -> None:
            raise signals.SKIP("not today")

        @task
        def endrun() -> None:
            raise signals.ENDRUN(Success("ended", result="by ENDRUN"))

        with Flow("signals") as flow:
            tasks = [succeed(), fail(), retry_once(), skip(), endrun()]
        state = flow.run(executor=executor)
        got = [(type(state.result[t]).__name__, state.result[t].result) for t in tasks]
        assert got[0] == ("Success", "early")
        assert got[1][0] == "Failed"
        assert got[2] == ("Success", 2)
        # As in Prefect 1 (test_map_skips_return_exception_as_result): the signal itself.
        assert got[3][0] == "Skipped" and isinstance(got[3][1], signals.SKIP)
        assert str(got[3][1]) == "not today"
        assert got[4] == ("Success", "by ENDRUN")
        assert isinstance(state, Failed)


def test_a_fail_signal_message_reaches_the_run_logs_at_error() -> None:
    import logging

    from weir.engine.flow_runner import FlowRunner
    from weir.engine.reporter import InMemoryReporter

    @task
    def check(n: int) -> None:
        raise signals.FAIL(f"expected a positive count, got {n}")

    with Flow("checks") as flow:
        check(-3)
    reporter = InMemoryReporter()
    FlowRunner(flow, reporter=reporter).run()
    errors = [line for line in reporter.logs if line[2]["level"] == logging.ERROR]
    assert len(errors) == 1
    slug, _, record = errors[0]
    assert slug == "check-1"
    assert "FAIL signal raised: expected a positive count, got -3" in record["message"]


class TestSignalsPassBroadHandlers:
    """As in Prefect 1, signals are BaseExceptions: a task's ``except Exception:``
    does not swallow them."""

    def test_signals_are_not_exceptions(self) -> None:
        for signal in (signals.SKIP, signals.FAIL, signals.LOOP, signals.RETRY, signals.SUCCESS):
            assert issubclass(signal, BaseException)
            assert not issubclass(signal, Exception)

    def test_skip_inside_a_broad_handler_skips(self, executor: Executor) -> None:
        def nothing_new() -> None:
            raise signals.SKIP("nothing to do")

        @task
        def load() -> str:
            try:
                nothing_new()
            except Exception as exc:  # a handler around the body, for real errors
                raise signals.FAIL(f"wrapped: {exc!r}") from exc
            return "loaded"

        with Flow("f") as flow:
            r = load()
        state = flow.run(executor=executor).result[r]
        assert isinstance(state, Skipped)
        assert state.message == "nothing to do"

    def test_a_loop_inside_a_broad_handler_keeps_looping(self) -> None:
        @task
        def count() -> int:
            n = context.get("task_loop_result", 0)
            try:
                if n < 3:
                    raise signals.LOOP(result=n + 1)
            except Exception:
                return -1
            return n

        with Flow("f") as flow:
            r = count()
        assert flow.run().result[r].result == 3

    def test_a_signal_from_a_task_run_name_callable_is_its_state(self) -> None:
        def named(**_: Any) -> str:
            raise signals.SKIP("no name today")

        @task(task_run_name=named)
        def t() -> int:
            return 1

        with Flow("f") as flow:
            r = t()
        state = flow.run().result[r]
        assert isinstance(state, Skipped)
        assert state.message == "no name today"


def test_prefect_1_names_of_the_signal_bases_and_signal_from_state() -> None:
    from weir.engine.signals import PrefectSignal, PrefectStateSignal, signal_from_state

    try:
        raise signals.SKIP("x")
    except PrefectStateSignal as caught:  # Prefect 1 code catches the base by this name
        assert isinstance(caught, PrefectSignal)
    assert signal_from_state(Skipped()) is signals.SKIP
    assert signal_from_state(TriggerFailed()) is signals.TRIGGERFAIL
    assert signal_from_state(Failed()) is signals.FAIL
    with pytest.raises(ValueError, match="No signal ends a task in Pending"):
        from weir.engine.state import Pending

        signal_from_state(Pending())
