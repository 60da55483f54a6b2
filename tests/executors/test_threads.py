"""weir.executors.threads: a thread pool per flow run."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest

from weir.exceptions import ExecutorError
from weir.executors import Executor, ThreadExecutor


def add(a: int, b: int = 0) -> int:
    return a + b


def fail(msg: str) -> None:
    raise ValueError(msg)


class TestThreadExecutor:
    def test_runs_in_worker_threads(self) -> None:
        ex = ThreadExecutor(2)
        with ex.start():
            name = ex.submit(lambda: threading.current_thread().name).result(5)
        assert name.startswith("weir-task")
        assert name != threading.current_thread().name

    def test_submit_passes_args_and_kwargs_not_timeout(self) -> None:
        ex = ThreadExecutor()
        with ex.start():
            assert ex.submit(add, 1, b=2, timeout=3.0).result(5) == 3

    def test_errors_are_kept_in_the_future(self) -> None:
        ex = ThreadExecutor()
        with ex.start():
            fut = ex.submit(fail, "bad")
            with pytest.raises(ValueError, match="bad"):
                fut.result(5)

    def test_calls_run_concurrently(self) -> None:
        barrier = threading.Barrier(3, timeout=5)
        ex = ThreadExecutor(3)
        with ex.start():
            futures = [ex.submit(barrier.wait) for _ in range(3)]
            results = ex.wait(futures)
        assert sorted(results) == [0, 1, 2]

    def test_wait_returns_results_in_order(self) -> None:
        ex = ThreadExecutor(4)
        with ex.start():
            futures = [ex.submit(add, i, 1) for i in range(20)]
            assert ex.wait(futures) == list(range(1, 21))

    def test_done_callbacks_fire(self) -> None:
        done = threading.Event()
        seen: list[Future[Any]] = []
        ex = ThreadExecutor()
        with ex.start():
            fut = ex.submit(add, 1)

            def note(f: Future[Any]) -> None:
                seen.append(f)
                done.set()

            fut.add_done_callback(note)
            assert done.wait(5)
        assert seen == [fut]

    def test_submit_outside_start_says_what_to_do(self) -> None:
        with pytest.raises(ExecutorError, match=r"outside `with executor.start\(\):`"):
            ThreadExecutor().submit(add, 1)

    def test_start_can_be_used_again(self) -> None:
        ex = ThreadExecutor(1)
        for i in range(2):
            with ex.start():
                assert ex.submit(add, i).result(5) == i
        with pytest.raises(ExecutorError):
            ex.submit(add, 1)

    def test_pool_is_shut_down_after_start(self) -> None:
        ex = ThreadExecutor(2)
        with ex.start():
            ex.submit(add, 1).result(5)
        names = {t.name for t in threading.enumerate()}
        assert not any(n.startswith("weir-task") for n in names)

    def test_flags_and_description(self) -> None:
        ex = ThreadExecutor(max_workers=3)
        assert isinstance(ex, Executor)
        assert ex.shares_memory is True
        assert ex.hard_timeouts is False
        assert ex.serialize() == {"type": "ThreadExecutor", "max_workers": 3}
