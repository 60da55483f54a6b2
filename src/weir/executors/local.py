"""The inline executor: calls each function right away in the calling thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from weir.executors.base import DoneFuture, Executor


class LocalExecutor(Executor):
    """Runs every task inline, one after the other; the default and the reference."""

    shares_memory = True

    def submit(  # type: ignore[override]
        self, fn: Callable[..., Any], /, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> DoneFuture:
        # The call happens here and now; the FlowRunner sees done() and goes on at once.
        try:
            return DoneFuture(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - handed to whoever reads the future
            return DoneFuture(error=exc)
