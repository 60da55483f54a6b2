"""``weir.utilities.debug``: Prefect 1's ``prefect.utilities.debug`` for local runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from weir.context import context

__all__ = ["raise_on_exception"]


@contextmanager
def raise_on_exception() -> Iterator[None]:
    """Inside the block, an exception a task raises leaves ``flow.run()`` instead of
    failing the task: step into it with a debugger, or let a test see it (Prefect 1's
    ``raise_on_exception``; ``flow.run(context={"raise_on_exception": True})`` too)."""
    with context(raise_on_exception=True):
        yield
