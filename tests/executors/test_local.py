"""weir.executors.local: the inline executor and its done-from-birth futures."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from weir.executors import Executor, LocalExecutor
from weir.executors.base import DoneFuture


def add(a: int, b: int = 0) -> int:
    return a + b


def fail(msg: str) -> None:
    raise ValueError(msg)


class TestLocalExecutor:
    def test_runs_inline_in_the_calling_thread(self) -> None:
        ex = LocalExecutor()
        with ex.start():
            fut = ex.submit(threading.current_thread)
        assert fut.result() is threading.current_thread()

    def test_submit_passes_args_and_kwargs(self) -> None:
        ex = LocalExecutor()
        with ex.start():
            fut = ex.submit(add, 1, b=2)
        assert fut.done() and fut.result() == 3

    def test_timeout_keyword_is_the_executors_not_the_functions(self) -> None:
        ex = LocalExecutor()
        with ex.start():
            fut = ex.submit(add, 1, timeout=5.0)
        assert fut.result() == 1

    def test_errors_are_kept_in_the_future(self) -> None:
        ex = LocalExecutor()
        with ex.start():
            fut = ex.submit(fail, "bad")
        assert fut.done()
        assert isinstance(fut.exception(), ValueError)
        with pytest.raises(ValueError, match="bad"):
            fut.result()

    def test_wait_returns_results_in_order(self) -> None:
        ex = LocalExecutor()
        with ex.start():
            futures = [ex.submit(add, i, 1) for i in range(5)]
            assert ex.wait(futures) == [1, 2, 3, 4, 5]

    def test_flags_and_description(self) -> None:
        ex = LocalExecutor()
        assert isinstance(ex, Executor)
        assert ex.shares_memory is True
        assert ex.hard_timeouts is False
        assert ex.serialize() == {"type": "LocalExecutor"}
        assert repr(ex) == "<LocalExecutor>"

    def test_works_without_start(self) -> None:
        assert LocalExecutor().submit(add, 2).result() == 2


class TestDoneFuture:
    def test_value(self) -> None:
        fut = DoneFuture(5)
        assert fut.done() and fut.result() == 5 and fut.exception() is None
        assert fut.cancel() is False

    def test_error(self) -> None:
        fut = DoneFuture(error=KeyError("k"))
        assert isinstance(fut.exception(), KeyError)
        with pytest.raises(KeyError):
            fut.result()

    def test_callback_runs_at_once(self) -> None:
        seen: list[Any] = []
        fut = DoneFuture(1)
        fut.add_done_callback(seen.append)
        assert seen == [fut]
