"""A thread-pool executor: tasks run concurrently in one process."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from weir.exceptions import ExecutorError
from weir.executors.base import Executor


class ThreadExecutor(Executor):
    """Runs tasks on a ``concurrent.futures.ThreadPoolExecutor``.

    Timeouts are soft here: a thread cannot be killed, so a task past its timeout
    ends ``TimedOut`` while its thread is left to finish on its own.
    """

    shares_memory = True

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="weir-task")
        try:
            yield
        finally:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Future[Any]:
        if self._pool is None:
            raise ExecutorError(
                "ThreadExecutor.submit was called outside `with executor.start():`; "
                "start the executor first."
            )
        return self._pool.submit(fn, *args, **kwargs)

    def serialize(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "max_workers": self.max_workers}
