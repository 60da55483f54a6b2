"""``LocalDaskExecutor``: task runs on one of dask's local schedulers, as in Prefect 1.

Prefect 1 flows often run with ``LocalDaskExecutor(scheduler="threads")`` (or
``"processes"``, ``"synchronous"``) to get parallelism without a cluster. Here each
task run is one ``dask.delayed`` call computed by the chosen scheduler on a pool
this executor owns for the flow run, so dask's local schedulers (and dask config
such as ``num_workers``, given as keyword arguments) behave as Prefect 1 users
know them. weir's own ``ThreadExecutor`` and ``ProcessExecutor`` do the same work
with less overhead and, for processes, hard timeouts; use them when dask is not
the point.

- ``threads``: a thread pool of ``num_workers`` (default: dask's CPU count);
  tasks share this process's memory. Timeouts are soft, as on any thread.
- ``processes``: a process pool; tasks and their results travel by cloudpickle
  and what they report comes back with their result.
- ``synchronous``: one task at a time, in the flow run's thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor as PoolExecutor
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from weir.exceptions import ExecutorError
from weir.executors.base import DoneFuture, Executor

__all__ = ["LocalDaskExecutor"]

_SCHEDULERS = {
    "threads": "threads",
    "threading": "threads",
    "processes": "processes",
    "multiprocessing": "processes",
    "sync": "synchronous",
    "synchronous": "synchronous",
    "single-threaded": "synchronous",
}


class LocalDaskExecutor(Executor):
    """Runs each task run on a dask local scheduler: threads, processes or synchronous.

    Args:
        scheduler: ``"threads"`` (default), ``"processes"`` or ``"synchronous"``
            (the aliases Prefect 1 took are accepted too).
        **dask_config: dask configuration set while the flow runs, as in Prefect 1;
            ``num_workers`` sizes the pool.
    """

    def __init__(self, scheduler: str = "threads", **dask_config: Any) -> None:
        self.scheduler = _normalize(scheduler)
        self.dask_config = dask_config
        # Tasks on the process scheduler run in other processes: what they report must
        # travel back with their result, as on ProcessExecutor.
        self.shares_memory = self.scheduler != "processes"
        self._pool: PoolExecutor | None = None
        self._dispatch: ThreadPoolExecutor | None = None

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        import dask.config

        with dask.config.set(**self.dask_config):
            workers = self.num_workers
            if self.scheduler == "threads":
                self._pool = ThreadPoolExecutor(workers, thread_name_prefix="weir-dask")
            elif self.scheduler == "processes":
                self._pool = ProcessPoolExecutor(workers)
            if self._pool is not None:
                # dask.compute blocks until its graph is done, so each waits on a thread
                # of its own; the work itself runs on the scheduler's pool.
                self._dispatch = ThreadPoolExecutor(workers, thread_name_prefix="weir-dask-wait")
            try:
                yield
            finally:
                dispatch, pool = self._dispatch, self._pool
                self._dispatch = self._pool = None
                if dispatch is not None:
                    dispatch.shutdown(wait=True, cancel_futures=True)
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)

    @property
    def num_workers(self) -> int:
        import dask.config
        from dask.system import CPU_COUNT

        return int(dask.config.get("num_workers", None) or CPU_COUNT)

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Future[Any] | DoneFuture:
        if self.scheduler == "synchronous":
            try:
                return DoneFuture(self._compute(fn, args, kwargs))
            except Exception as exc:  # noqa: BLE001 - the future carries it, as a pool's does
                return DoneFuture(error=exc)
        if self._dispatch is None:
            raise ExecutorError(
                "LocalDaskExecutor.submit was called outside `with executor.start():`; "
                "start the executor first."
            )
        return self._dispatch.submit(self._compute, fn, args, kwargs)

    def _compute(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        import dask

        call = dask.delayed(fn, pure=False)(*args, **kwargs)
        config: dict[str, Any] = {}
        if self.scheduler == "processes":
            # One task per process round trip: dask batches by 6 otherwise, which keeps
            # tasks queued behind each other while workers idle.
            config["chunksize"] = 1
        with dask.config.set(config):
            return dask.compute(
                call, scheduler=self.scheduler, pool=self._pool, optimize_graph=False
            )[0]

    def serialize(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "scheduler": self.scheduler, **self.dask_config}

    def __repr__(self) -> str:
        return f"<LocalDaskExecutor scheduler={self.scheduler!r}>"


def _normalize(scheduler: str) -> str:
    name = _SCHEDULERS.get(str(scheduler).lower())
    if name is None:
        raise ValueError(
            f"LocalDaskExecutor: unknown scheduler {scheduler!r}; use 'threads', "
            "'processes' or 'synchronous'."
        )
    return name
