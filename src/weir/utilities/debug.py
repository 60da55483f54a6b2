"""``weir.utilities.debug``: Prefect 1's ``prefect.utilities.debug`` for local runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from weir.context import context

__all__ = ["is_serializable", "raise_on_exception"]

#: Run by a fresh interpreter: load the pickle read from standard input.
_LOAD = "import cloudpickle, sys; cloudpickle.loads(sys.stdin.buffer.read())"


@contextmanager
def raise_on_exception() -> Iterator[None]:
    """Inside the block, an exception a task raises leaves ``flow.run()`` instead of
    failing the task: step into it with a debugger, or let a test see it (Prefect 1's
    ``raise_on_exception``; ``flow.run(context={"raise_on_exception": True})`` too)."""
    with context(raise_on_exception=True):
        yield


def is_serializable(obj: Any, raise_on_error: bool = False) -> bool:
    """Whether ``obj`` pickles here and loads back in a fresh Python process, as a flow
    stored as a pickle (or a result, or a task sent to a worker process) must (Prefect
    1's helper). A lambda defined in ``__main__`` pickles; a module only this process
    can import does not load elsewhere.

    With ``raise_on_error``, a failure raises instead of returning False: the pickling
    error, or ``subprocess.CalledProcessError`` whose ``output`` is the fresh
    process's traceback.
    """
    import cloudpickle

    try:
        data = cloudpickle.dumps(obj)
    except Exception:
        if raise_on_error:
            raise
        return False
    try:
        subprocess.run(
            [sys.executable, "-c", _LOAD],
            input=data,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            check=True,
        )
    except subprocess.CalledProcessError:
        if raise_on_error:
            raise
        return False
    return True
