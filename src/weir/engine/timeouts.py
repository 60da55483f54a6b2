"""Running a function with a time limit, as hard as the place it runs allows.

- In a process's main thread, a timer signal interrupts the function: a hard stop
  for Python code (C code that never returns to the interpreter is not interrupted).
- Elsewhere (worker threads), the function runs in a helper thread that is
  abandoned when the time is up: a soft timeout, since threads cannot be killed.
- Coroutines are cancelled by asyncio, which is hard at the next ``await``.

The process executor adds a truly hard limit: it kills the worker process.
"""

from __future__ import annotations

import asyncio
import contextvars
import signal
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from weir.executors.base import TaskTimeoutError

_HAS_ITIMER = hasattr(signal, "setitimer")


def call_with_timeout(fn: Callable[..., Any], kwargs: dict[str, Any], timeout: float) -> Any:
    """``fn(**kwargs)``, or TaskTimeoutError after ``timeout`` seconds."""
    if _HAS_ITIMER and threading.current_thread() is threading.main_thread():
        return _with_signal(fn, kwargs, timeout)
    return _with_thread(fn, kwargs, timeout)


def _with_signal(fn: Callable[..., Any], kwargs: dict[str, Any], timeout: float) -> Any:
    # Someone may already own the process timer (an outer timeout, a test runner's
    # watchdog): keep its deadline, let it fire first if it is sooner, re-arm it after.
    outer, interval = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()
    outer_pending = [outer > 0]

    def on_alarm(signum: int, frame: Any) -> None:
        elapsed = time.monotonic() - started
        if outer_pending[0] and outer < timeout:
            outer_pending[0] = False
            signal.setitimer(signal.ITIMER_REAL, max(timeout - elapsed, 1e-6))
            if callable(previous):
                previous(signum, frame)
            return
        raise TaskTimeoutError(f"The task ran past its timeout of {timeout:g} s.")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, min(outer, timeout) if outer else timeout)
    try:
        return fn(**kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_pending[0]:
            left = outer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), interval)


def _with_thread(fn: Callable[..., Any], kwargs: dict[str, Any], timeout: float) -> Any:
    box: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = ctx.run(fn, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller below
            box["error"] = exc

    worker = threading.Thread(target=target, name="weir-timeout", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TaskTimeoutError(
            f"The task ran past its timeout of {timeout:g} s; its thread cannot be killed and "
            "was left to finish in the background (use ProcessExecutor for hard timeouts)."
        )
    if "error" in box:
        raise box["error"]
    return box["value"]


def run_coroutine(coro: Coroutine[Any, Any, Any], timeout: float | None) -> Any:
    """Run an ``async def`` task's coroutine to completion, with its timeout."""

    async def bounded() -> Any:
        try:
            return await asyncio.wait_for(coro, timeout)
        except asyncio.TimeoutError:
            raise TaskTimeoutError(f"The task ran past its timeout of {timeout:g} s.") from None

    main = bounded() if timeout is not None else coro
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main)
    # A loop already runs in this thread (flow.run() called from async code):
    # give the coroutine a loop of its own in a helper thread.
    box: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = ctx.run(asyncio.run, main)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            box["error"] = exc

    t = threading.Thread(target=target, name="weir-async-task")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
