"""retry_on (Prefect 1): with it set, only failures raising one of its types are retried."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from weir import Flow, signals, task
from weir.engine.state import Failed, Retrying, Success, TimedOut
from weir.engine.task_runner import TaskRunner
from weir.executors.base import TaskTimeoutError

NO_DELAY = dt.timedelta(0)


@task
def work() -> int:
    return 1


def runner(**task_args: object) -> TaskRunner:
    return TaskRunner(work.copy(max_retries=2, retry_delay=NO_DELAY, **task_args))


class TestCheckForRetry:
    def test_an_exception_of_a_retry_on_type_is_retried(self) -> None:
        r = runner(retry_on={ConnectionError})
        # A subclass counts, as isinstance says.
        s = r.check_for_retry(Failed("x", result=ConnectionResetError()), run_count=1)
        assert isinstance(s, Retrying)

    def test_another_exception_fails_at_once(self, caplog: pytest.LogCaptureFixture) -> None:
        r = runner(retry_on={ConnectionError, KeyError})
        failed = Failed("x", result=ValueError("bad"))
        with caplog.at_level(logging.INFO, logger="weir.engine.task_runner"):
            assert r.check_for_retry(failed, run_count=1) is failed
        assert "not retried: ValueError is not one of its retry_on types" in caplog.text
        assert "ConnectionError, KeyError" in caplog.text

    def test_a_failure_without_an_exception_is_retried(self) -> None:
        s = runner(retry_on=KeyError).check_for_retry(Failed("x"), run_count=1)
        assert isinstance(s, Retrying)

    def test_a_fail_signal_is_not_one_of_the_types(self) -> None:
        failed = signals.FAIL("no").state
        assert runner(retry_on=KeyError).check_for_retry(failed, run_count=1) is failed

    def test_a_timeout_counts_as_a_timeout_error(self) -> None:
        timed_out = TimedOut("slow", result=TaskTimeoutError("slow"))
        assert isinstance(runner(retry_on=TimeoutError).check_for_retry(timed_out, 1), Retrying)
        assert runner(retry_on=KeyError).check_for_retry(timed_out, 1) is timed_out

    def test_retries_still_run_out(self) -> None:
        failed = Failed("x", result=KeyError())
        assert runner(retry_on=KeyError).check_for_retry(failed, run_count=3) is failed

    def test_unset_retries_any_failure(self) -> None:
        s = runner().check_for_retry(Failed("x", result=ValueError()), run_count=1)
        assert isinstance(s, Retrying)


class TestInAFlow:
    def _flow(self, raised: type[Exception]) -> tuple[Flow, object, list[int]]:
        calls: list[int] = []

        @task(max_retries=3, retry_delay=NO_DELAY, retry_on=[KeyError, ConnectionError])
        def flaky() -> str:
            calls.append(1)
            if len(calls) < 3:
                raise raised("try again")
            return "done"

        with Flow("f") as flow:
            r = flaky()
        return flow, r, calls

    def test_retried_until_it_succeeds(self) -> None:
        flow, r, calls = self._flow(ConnectionError)
        state = flow.run()
        assert isinstance(state.result[r], Success) and state.result[r].result == "done"
        assert len(calls) == 3

    def test_not_retried_for_another_exception(self) -> None:
        flow, r, calls = self._flow(ValueError)
        state = flow.run()
        assert state.is_failed() and isinstance(state.result[r].result, ValueError)
        assert len(calls) == 1
