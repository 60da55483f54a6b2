"""The executor interface: where task runs are executed.

An executor runs callables and hands back futures; it never sees states, the API
or the database. The FlowRunner submits one callable per task run and learns of
completions through ``Future.add_done_callback`` (so it never busy-waits), or,
for executors whose futures are already done when ``submit`` returns (the local
one), by checking ``done()`` right away.

Executors that can stop a task that runs past its timeout say so with
``hard_timeouts``; the FlowRunner passes the task's timeout with ``submit`` so
they can enforce it (a killed call's future raises ``TaskTimeoutError``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from weir.exceptions import ExecutorError

__all__ = ["Executor", "TaskTimeoutError"]


class TaskTimeoutError(ExecutorError, TimeoutError):
    """A task ran past its timeout and was stopped."""


class Executor:
    """Base class: a ``start()`` context manager, ``submit`` and ``wait``."""

    #: True when a task that overruns its timeout is actually stopped, not abandoned.
    hard_timeouts: bool = False

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        """Acquire whatever the executor needs (pools, clusters) for one flow run."""
        yield

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Future[Any]:
        """Run ``fn(*args, **kwargs)``; ``timeout`` is the task's, for hard enforcement."""
        raise NotImplementedError

    def wait(self, futures: Iterable[Future[Any]]) -> list[Any]:
        """Block until every future is done and return their results in order."""
        return [f.result() for f in futures]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def serialize(self) -> dict[str, Any]:
        """A JSON description of this executor, stored with a registered flow."""
        return {"type": type(self).__name__}
