"""``log_stdout``: a task's prints become its log lines, that task's only.

``contextlib.redirect_stdout`` swaps the process-wide ``sys.stdout``: with tasks in
threads, another task's print during that window was taken for this one's (and
the other task's own line was lost). Instead ``sys.stdout`` is wrapped once in a
router that sends each write to the writer of the context it comes from (a
``ContextVar``; the executors and timeouts carry a task's context into the threads
they run it in), or to the stream it wraps. Threads a task starts itself begin
with a context of their own, so their prints go to the stream.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol


class Writer(Protocol):
    def write(self, text: str) -> int: ...

    def flush(self) -> None: ...


_target: ContextVar[Writer | None] = ContextVar("weir_stdout_target", default=None)
_install_lock = threading.Lock()


class _Router:
    """``sys.stdout`` while weir runs tasks with ``log_stdout``: writes go to the
    current context's writer when one is set, else to ``stream``; every other
    attribute (``encoding``, ``fileno``, ``isatty``, ...) is the stream's."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        target = _target.get()
        return int((target or self.stream).write(text))

    def flush(self) -> None:
        target = _target.get()
        (target or self.stream).flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def captured(writer: Writer) -> Iterator[None]:
    """Send this context's prints to ``writer`` for the block (flushed at its end)."""
    if not isinstance(sys.stdout, _Router):
        with _install_lock:
            if not isinstance(sys.stdout, _Router):
                sys.stdout = _Router(sys.stdout)
    token = _target.set(writer)
    try:
        yield
    finally:
        _target.reset(token)
        writer.flush()
