"""State handlers as Prefect 1 runs them: a signal a handler raises is the state it
carries, and a handler may change the state it is handed."""

from __future__ import annotations

import datetime
from typing import Any

from weir import Flow, signals, task
from weir.engine.reporter import InMemoryReporter
from weir.engine.state import Failed, Running, Skipped, State, Success
from weir.engine.task_runner import TaskRunner


def _skip_on_running(obj: Any, old: State, new: State) -> State:
    if new.is_running():
        raise signals.SKIP("not today")
    return new


class TestSignalsRaisedByTaskHandlers:
    def test_skip_on_running_ends_the_task_skipped_without_running_it(self) -> None:
        calls: list[int] = []

        @task(state_handlers=[_skip_on_running])
        def work() -> int:
            calls.append(1)
            return 1

        reporter = InMemoryReporter()
        state = TaskRunner(work, reporter=reporter, slug="work").run()
        assert type(state) is Skipped and state.message == "not today"
        assert calls == []
        # The handler's state took Running's place: reported once, nothing after it.
        assert [s.name for s in reporter.task_states[("work", None)]] == ["Skipped"]

    def test_fail_on_success_ends_the_task_failed(self) -> None:
        def fail_on_success(obj: Any, old: State, new: State) -> None:
            if new.is_successful():
                raise signals.FAIL("result rejected")

        @task(state_handlers=[fail_on_success])
        def work() -> int:
            return 1

        state = TaskRunner(work).run()
        assert type(state) is Failed and state.message == "result rejected"

    def test_a_skipped_task_skips_its_downstream_in_a_flow(self) -> None:
        @task(state_handlers=[_skip_on_running])
        def first() -> int:
            return 1

        @task
        def second(x: int) -> int:
            return x + 1

        with Flow("f") as flow:
            a = first()
            b = second(a)
        state = flow.run()
        assert state.is_successful()  # skipping counts as success, as in Prefect 1
        assert type(state.result[a]) is Skipped and type(state.result[b]) is Skipped

    def test_any_other_error_still_fails_the_task(self) -> None:
        def broken(obj: Any, old: State, new: State) -> None:
            raise ZeroDivisionError("oops")

        state = TaskRunner(task(lambda: 1).copy(state_handlers=[broken])).run()
        assert type(state) is Failed
        assert "ZeroDivisionError" in (state.message or "")


class TestSignalsRaisedByFlowHandlers:
    def test_skip_on_running_ends_the_flow_run_skipped(self) -> None:
        calls: list[int] = []

        @task
        def work() -> None:
            calls.append(1)

        with Flow("f", state_handlers=[_skip_on_running]) as flow:
            work()
        state = flow.run()
        assert type(state) is Skipped and state.message == "not today"
        assert calls == []


class TestHandlersChangeStates:
    def test_a_handler_may_set_attributes_of_the_new_state(self) -> None:
        def annotate(obj: Any, old: State, new: State) -> State:
            new.message = f"{new.name} (annotated)"
            new.context["owner"] = "data-team"
            if new.is_successful():
                new.result = new.result * 10
            return new

        @task(state_handlers=[annotate])
        def work() -> int:
            return 4

        reporter = InMemoryReporter()
        state = TaskRunner(work, reporter=reporter, slug="work").run()
        assert type(state) is Success and state.result == 40
        assert state.message == "Success (annotated)"
        assert state.context == {"owner": "data-team"}
        running = reporter.task_states[("work", None)][0]
        assert type(running) is Running and running.message == "Running (annotated)"


def test_flow_state_handlers_read_the_run_s_context_as_in_prefect_1() -> None:
    # Prefect 1's notifiers build a link to the run from these in a flow handler.
    from weir import Parameter, context

    seen: list[tuple[Any, ...]] = []

    def handler(flow: Any, old: Any, new: Any) -> None:
        seen.append(
            (
                type(new).__name__,
                context.get("flow_name"),
                context.get("flow_run_id"),
                context.get("parameters"),
                context.get("scheduled_start_time") is not None,
                context.get("mine"),
            )
        )

    @task
    def one(x: int) -> int:
        return x

    with Flow("handled", state_handlers=[handler]) as flow:
        one(Parameter("x", default=1))
    flow.run(flow_run_id="run-1", context={"mine": "given"})
    assert seen == [
        ("Running", "handled", "run-1", {"x": 1}, True, "given"),
        ("Success", "handled", "run-1", {"x": 1}, True, "given"),
    ]
    assert context.get("flow_run_id") is None  # only while the run goes


class TestRetriesAsHandlersSeeThem:
    """As in Prefect 1: a failed attempt is Failed to the handlers, then Retrying."""

    def test_each_failed_attempt_is_failed_then_retrying(self) -> None:
        moves: list[str] = []
        failures: list[int] = []
        calls: list[int] = []

        def record(task: Any, old: State, new: State) -> None:
            moves.append(f"{type(old).__name__}->{type(new).__name__}")

        @task(
            max_retries=1,
            retry_delay=datetime.timedelta(0),
            state_handlers=[record],
            on_failure=lambda task, state: failures.append(len(calls)),
        )
        def flaky() -> int:
            calls.append(1)
            raise RuntimeError("down")

        reporter = InMemoryReporter()
        with Flow("f") as flow:
            out = flaky()
        state = flow.run(reporter=reporter).result[out]
        assert isinstance(state, Failed)
        assert moves == [
            "Pending->Running",
            "Running->Failed",
            "Failed->Retrying",
            "Retrying->Running",
            "Running->Failed",
        ]
        assert failures == [1, 2]  # on_failure hears both attempts
        # The run's record (what a server stores) goes Running -> Retrying, as before.
        [history] = reporter.task_states.values()
        assert [type(s).__name__ for s in history] == [
            "Running",
            "Retrying",
            "Running",
            "Failed",
        ]

    def test_a_handler_that_replaces_the_failure_stops_the_retry(self) -> None:
        calls: list[int] = []

        def forgive(task: Any, old: State, new: State) -> State | None:
            return Skipped("forgiven") if new.is_failed() else None

        @task(max_retries=2, retry_delay=datetime.timedelta(0), state_handlers=[forgive])
        def flaky() -> int:
            calls.append(1)
            raise RuntimeError("down")

        with Flow("f") as flow:
            out = flaky()
        state = flow.run().result[out]
        assert isinstance(state, Skipped) and state.message == "forgiven"
        assert calls == [1]
