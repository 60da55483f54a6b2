"""The executor interface: where task runs are executed.

An executor runs callables and hands back futures; it never sees states, the API
or the database. The FlowRunner submits one callable per task run and learns of
completions through ``Future.add_done_callback`` (so it never busy-waits), or,
for executors whose futures are already done when ``submit`` returns (the local
one), by checking ``done()`` right away.

Executors that can stop a task that runs past its timeout say so with
``hard_timeouts``; the FlowRunner passes the task's timeout with ``submit`` so
they can enforce it (a killed call's future raises ``TaskTimeoutError``).

Every executor takes many calls at once with ``submit_many``; those for which a
batch is cheaper than one ``submit`` each say so with ``batches_submits``, and
the FlowRunner then hands them a mapped task's ready children in one batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

from weir.exceptions import ExecutorError

__all__ = ["Call", "DoneFuture", "Executor", "TaskTimeoutError"]

#: One call for ``submit_many``: ``(fn, args, kwargs)``.
Call = tuple[Callable[..., Any], Sequence[Any], dict[str, Any]]


class TaskTimeoutError(ExecutorError, TimeoutError):
    """A task ran past its timeout and was stopped."""


class DoneFuture:
    """A future that is done from birth: what the inline executor returns.

    It has the parts of ``concurrent.futures.Future`` that weir uses, without the
    lock and condition a real one allocates, which would cost more than a task.
    """

    __slots__ = ("_value", "_error")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value = value
        self._error = error

    def done(self) -> bool:
        return True

    def result(self, timeout: float | None = None) -> Any:
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        return self._error

    def add_done_callback(self, fn: Callable[[Any], Any]) -> None:
        fn(self)

    def cancel(self) -> bool:
        return False


class Executor:
    """Base class: a ``start()`` context manager, ``submit`` and ``wait``."""

    #: True when a task that overruns its timeout is actually stopped, not abandoned.
    hard_timeouts: bool = False
    #: True when submitted calls run in this process, so they may report directly
    #: (otherwise what they report travels back with their result).
    shares_memory: bool = False
    #: True when ``submit_many`` sends its calls in one batch, cheaper than one
    #: ``submit`` each (Dask's ``client.map``); otherwise it submits them one by one.
    batches_submits: bool = False

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        """Acquire whatever the executor needs (pools, clusters) for one flow run."""
        yield

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Future[Any]:
        """Run ``fn(*args, **kwargs)``; ``timeout`` is the task's, for hard enforcement."""
        raise NotImplementedError

    def submit_many(self, calls: Iterable[Call], **options: Any) -> list[Future[Any]]:
        """Submit many ``(fn, args, kwargs)`` calls with the same ``options``; their
        futures, in order. Here one ``submit`` each (see ``batches_submits``)."""
        return [self.submit(fn, *args, **options, **kwargs) for fn, args, kwargs in calls]

    def task_options(self, task: Any) -> dict[str, Any]:
        """Extra keywords for ``submit`` for one task (a name for errors, resources …)."""
        return {}

    def cancel_queued(self, futures: Iterable[Future[Any]]) -> None:
        """Stop the calls among ``futures`` that have not started; those running go on.

        A future marked running when its call starts (a pool's) refuses ``cancel()``
        once it runs; an executor whose futures are not so marked says otherwise.
        """
        for future in futures:
            future.cancel()

    def wait(self, futures: Iterable[Future[Any]]) -> list[Any]:
        """Block until every future is done and return their results in order."""
        return [f.result() for f in futures]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def serialize(self) -> dict[str, Any]:
        """A JSON description of this executor, stored with a registered flow."""
        return {"type": type(self).__name__}
