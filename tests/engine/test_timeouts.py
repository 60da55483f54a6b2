"""weir.engine.timeouts: time limits in the main thread, in worker threads, for coroutines."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from typing import Any

import pytest

from weir import Flow, context, task
from weir.engine.state import Success, TimedOut, TriggerFailed
from weir.engine.timeouts import call_with_timeout, run_coroutine
from weir.executors import Executor, TaskTimeoutError
from weir.utilities.waiting import wait_until


def sleep_then(seconds: float, value: Any = "done") -> Any:
    time.sleep(seconds)
    return value


def raise_value_error() -> None:
    raise ValueError("inner")


def in_thread(fn: Any) -> Any:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join(10)
    if "error" in box:
        raise box["error"]
    return box["value"]


class TestCallWithTimeout:
    def test_returns_in_time(self) -> None:
        assert call_with_timeout(sleep_then, {"seconds": 0, "value": 3}, 1.0) == 3

    def test_main_thread_overrun(self) -> None:
        with pytest.raises(TaskTimeoutError, match="timeout of 0.1 s"):
            call_with_timeout(sleep_then, {"seconds": 5}, 0.1)

    def test_worker_thread_overrun(self) -> None:
        with pytest.raises(TaskTimeoutError, match="cannot be killed"):
            in_thread(lambda: call_with_timeout(sleep_then, {"seconds": 5}, 0.1))

    @pytest.mark.parametrize("where", ["main", "thread"])
    def test_errors_pass_through(self, where: str) -> None:
        def call() -> Any:
            return call_with_timeout(raise_value_error, {}, 1.0)

        with pytest.raises(ValueError, match="inner"):
            call() if where == "main" else in_thread(call)

    @pytest.mark.parametrize("where", ["main", "thread"])
    def test_the_call_sees_the_callers_context(self, where: str) -> None:
        def call() -> Any:
            with context(marker="here"):
                return call_with_timeout(lambda: context.get("marker"), {}, 1.0)

        assert (call() if where == "main" else in_thread(call)) == "here"

    def test_alarm_handler_is_restored(self) -> None:
        before = signal.getsignal(signal.SIGALRM)
        call_with_timeout(sleep_then, {"seconds": 0}, 1.0)
        with pytest.raises(TaskTimeoutError):
            call_with_timeout(sleep_then, {"seconds": 5}, 0.05)
        assert signal.getsignal(signal.SIGALRM) is before

    def test_an_outer_alarm_survives(self) -> None:
        fired: list[int] = []

        def outer(signum: int, frame: Any) -> None:
            fired.append(signum)

        previous = signal.signal(signal.SIGALRM, outer)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            assert call_with_timeout(sleep_then, {"seconds": 0.01, "value": 1}, 1.0) == 1
            remaining, _ = signal.getitimer(signal.ITIMER_REAL)
            assert 0 < remaining <= 0.3  # the outer timer still runs after ours ended
            wait_until(lambda: fired, 2, interval=0.01)
            assert fired == [signal.SIGALRM]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def test_a_sooner_outer_alarm_fires_and_ours_still_holds(self) -> None:
        fired: list[int] = []

        def outer(signum: int, frame: Any) -> None:
            fired.append(signum)

        previous = signal.signal(signal.SIGALRM, outer)
        try:
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            assert call_with_timeout(sleep_then, {"seconds": 0.2, "value": 2}, 1.0) == 2
            assert fired == [signal.SIGALRM]
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            with pytest.raises(TaskTimeoutError):
                call_with_timeout(sleep_then, {"seconds": 5}, 0.2)
            assert fired == [signal.SIGALRM] * 2
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


class TestRunCoroutine:
    def test_no_running_loop(self) -> None:
        async def double(x: int) -> int:
            await asyncio.sleep(0)
            return 2 * x

        assert run_coroutine(double(4), None) == 8

    def test_timeout(self) -> None:
        with pytest.raises(TaskTimeoutError, match="timeout of 0.05 s"):
            run_coroutine(asyncio.sleep(5), 0.05)

    def test_inside_a_running_loop(self) -> None:
        async def inner() -> int:
            await asyncio.sleep(0)
            return 5

        async def outer() -> int:
            return run_coroutine(inner(), 1.0)

        assert asyncio.run(outer()) == 5


class TestTimeoutsInFlows:
    @pytest.mark.timeout(30)
    def test_flow_returns_while_the_stuck_call_is_blocked(
        self, shared_memory_executor: Executor
    ) -> None:
        executor = shared_memory_executor
        release = threading.Event()
        finished: list[str] = []

        @task(timeout=0.2)
        def stuck() -> None:
            release.wait(20)
            finished.append("stuck")

        @task
        def fine() -> str:
            return "fine"

        @task
        def after(x: Any) -> Any:
            return x

        with Flow("timeouts") as flow:
            s = stuck()
            f = fine()
            a = after(s)
        try:
            state = flow.run(executor=executor)
            # The flow returned while the stuck call was still blocked: it did not wait.
            assert finished == []
        finally:
            release.set()
        assert type(state.result[s]) is TimedOut
        assert isinstance(state.result[s].result, TaskTimeoutError)
        assert "timed out" in (state.result[s].message or "")
        assert type(state.result[f]) is Success
        assert type(state.result[a]) is TriggerFailed

    # A hang would run into the test's own time limit long before the task's sleep ends.
    @pytest.mark.timeout(30)
    def test_timed_out_task_does_not_hang_the_flow(self, executor: Executor) -> None:
        @task(timeout=0.2)
        def stuck() -> None:
            time.sleep(120)

        @task
        def after(x: Any) -> Any:
            return x

        with Flow("timeouts") as flow:
            s = stuck()
            a = after(s)
        state = flow.run(executor=executor)
        assert type(state.result[s]) is TimedOut
        assert type(state.result[a]) is TriggerFailed

    def test_async_task_timeout(self, executor: Executor) -> None:
        @task(timeout=0.1)
        async def stuck() -> None:
            await asyncio.sleep(3)

        with Flow("f") as flow:
            s = stuck()
        assert type(flow.run(executor=executor).result[s]) is TimedOut

    @pytest.mark.timeout(30)
    def test_timed_out_task_is_retried(self, executor: Executor) -> None:
        @task(timeout=0.2, max_retries=1, retry_delay=0.01)
        def slow_then_fast() -> int:
            if context.task_run_count == 1:
                time.sleep(120)
            return context.task_run_count

        with Flow("f") as flow:
            s = slow_then_fast()
        state = flow.run(executor=executor)
        assert state.result[s].result == 2

    def test_task_within_its_timeout_succeeds(self, executor: Executor) -> None:
        @task(timeout=2)
        def quick() -> int:
            return 1

        with Flow("f") as flow:
            q = quick()
        assert flow.run(executor=executor).result[q].result == 1


class TestHardTimeouts:
    @pytest.mark.timeout(60)
    def test_task_killed_for_its_timeout_is_retried(self) -> None:
        from weir.engine.reporter import InMemoryReporter
        from weir.executors import ProcessExecutor

        @task(timeout=0.5, max_retries=1, retry_delay=0.01)
        def slow_then_fast() -> int:
            if context.task_run_count == 1:
                time.sleep(120)
            return context.task_run_count

        reporter = InMemoryReporter()
        with Flow("f") as flow:
            s = slow_then_fast()
        state = flow.run(executor=ProcessExecutor(max_workers=1), reporter=reporter)
        assert state.result[s].result == 2
        names = [x.name for x in reporter.task_states[(flow.slugs[s], None)]]
        assert names[0] == "Retrying" and names[-1] == "Success"
