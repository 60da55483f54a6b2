"""LOOP as Prefect 1 runs it: each call of a loop is a run of its own (Running again,
``task_run_count`` 1 again), and a retry goes on from the loop that failed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from weir import Flow, context, signals, task
from weir.engine.reporter import InMemoryReporter
from weir.engine.state import Looped, Retrying, State
from weir.engine.task_runner import TaskRunner
from weir.executors import Executor

NO_DELAY = dt.timedelta(0)


@task(max_retries=1, retry_delay=NO_DELAY)
def sum_to_twenty(x: int) -> int:
    """Adds ``x`` twenty times over twenty loops, failing once on loop 2."""
    if context.get("task_loop_count") == 2 and context.get("task_run_count") == 1:
        raise ValueError("loop 2 fails on its first attempt")
    if context.get("task_loop_count", 1) < 20:
        raise signals.LOOP(result=context.get("task_loop_result", 0) + x)
    return int(context.get("task_loop_result")) + x


def test_the_loop_count_is_the_index_of_the_call() -> None:
    seen: list[tuple[Any, int]] = []

    @task
    def looper() -> int:
        seen.append((context.task_loop_count, context.task_run_count))
        if context.get("task_loop_count", 1) < 3:
            raise signals.LOOP(result=context.get("task_loop_result", 0) + 1)
        return int(context.task_loop_result)

    reporter = InMemoryReporter()
    state = TaskRunner(looper, reporter=reporter, slug="looper").run()
    assert state.result == 2
    assert seen == [(None, 1), (2, 1), (3, 1)]
    history = reporter.task_states[("looper", None)]
    assert [s.name for s in history] == [
        "Running",
        "Looped",
        "Running",
        "Looped",
        "Running",
        "Success",
    ]
    assert [s.loop_count for s in history if isinstance(s, Looped)] == [1, 2]
    assert [s.message for s in history if isinstance(s, Looped)] == [
        "Task is looping (1)",
        "Task is looping (2)",
    ]


def test_a_failed_loop_retries_from_where_it_failed() -> None:
    runner = TaskRunner(sum_to_twenty, constants={"x": 10})
    first = runner.run()
    assert isinstance(first, Retrying)
    # The retry keeps the loop it failed on and the result the loop had reached.
    assert first.context["_loop_count"] == 2 and first.result == 10
    second = runner.run(state=first)
    assert second.is_successful() and second.result == 200


def test_each_call_of_a_loop_counts_as_a_first_run() -> None:
    run_counts: list[int] = []

    @task(max_retries=1, retry_delay=NO_DELAY)
    def looper() -> int:
        run_counts.append(context.task_run_count)
        if context.get("task_loop_count") == 2 and context.task_run_count == 1:
            raise ValueError("once")
        if context.get("task_loop_count", 1) < 5:
            raise signals.LOOP(result=context.get("task_loop_result", 0) + 1)
        return int(context.task_loop_result)

    with Flow("f") as flow:
        t = looper()
    state = flow.run()
    assert state.result[t].result == 4
    # Loop 1, loop 2 fails; its retry is run 2; loops 3 to 5 count from 1 again.
    assert run_counts == [1, 1, 2, 1, 1, 1]


def test_retries_count_the_failures_of_one_call() -> None:
    # Every loop gets its own retries: a failure on loop 3 after one on loop 2 retries.
    failed: set[int] = set()

    @task(max_retries=1, retry_delay=NO_DELAY)
    def looper() -> int:
        loop = context.get("task_loop_count", 1)
        if loop in (2, 3) and loop not in failed:
            failed.add(loop)
            raise ValueError(f"loop {loop}")
        if loop < 4:
            raise signals.LOOP()
        return loop

    with Flow("f") as flow:
        t = looper()
    state = flow.run()
    assert state.result[t].result == 4


def test_a_loop_that_keeps_failing_fails_after_its_retries() -> None:
    @task(max_retries=2, retry_delay=NO_DELAY)
    def looper() -> None:
        if context.get("task_loop_count", 1) < 2:
            raise signals.LOOP()
        raise ValueError("always")

    reporter = InMemoryReporter()
    with Flow("f") as flow:
        t = looper()
    state = flow.run(reporter=reporter)
    assert state.is_failed() and state.result[t].is_failed()
    names = [s.name for s in reporter.task_states[(flow.slugs[t], None)]]
    assert names.count("Retrying") == 2


def test_a_retry_goes_on_from_the_loop_under_every_executor(executor: Executor) -> None:
    with Flow("f") as flow:
        t = sum_to_twenty(10)
    state = flow.run(executor=executor)
    assert state.is_successful() and state.result[t].result == 200


def test_the_flow_context_may_set_the_first_loop_index() -> None:
    @task
    def looper(x: int) -> int:
        if context.get("task_loop_count", 1) < 20:
            raise signals.LOOP(result=context.get("task_loop_result", 0) + x)
        return int(context.get("task_loop_result", 0)) + x

    with Flow("f") as flow:
        t = looper(10)
    assert flow.run().result[t].result == 200
    assert flow.run(context={"task_loop_count": 20}).result[t].result == 10


def test_handlers_see_each_loop_as_running_again() -> None:
    seen: list[tuple[str, str]] = []

    def handler(obj: Any, old: State, new: State) -> None:
        seen.append((old.name, new.name))

    @task(state_handlers=[handler])
    def looper() -> int:
        if context.get("task_loop_count", 1) < 2:
            raise signals.LOOP()
        return 1

    TaskRunner(looper).run()
    assert seen == [
        ("Pending", "Running"),
        ("Running", "Looped"),
        ("Looped", "Running"),
        ("Running", "Success"),
    ]


def test_a_handler_may_end_a_loop() -> None:
    def stop_at_two(obj: Any, old: State, new: State) -> None:
        if isinstance(new, Looped) and new.loop_count == 2:
            raise signals.FAIL("two loops are enough")

    calls: list[int] = []

    @task(state_handlers=[stop_at_two])
    def looper() -> None:
        calls.append(1)
        raise signals.LOOP()

    reporter = InMemoryReporter()
    state = TaskRunner(looper, reporter=reporter, slug="looper").run()
    assert state.is_failed() and state.message == "two loops are enough"
    assert len(calls) == 2
    history = [s.name for s in reporter.task_states[("looper", None)]]
    assert history == ["Running", "Looped", "Running", "Failed"]
