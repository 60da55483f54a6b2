"""The inline executor: calls each function right away in the calling thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from weir.executors.base import Executor


class LocalExecutor(Executor):
    """Runs every task inline, one after the other; the default and the reference."""

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Future[Any]:
        # A bare Future with its result set: no thread, no lock contention, no callbacks
        # run later; the FlowRunner sees done() is true and handles it at once.
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the future
            fut.set_exception(exc)
        return fut
