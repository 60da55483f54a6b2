"""One way for tests and test helpers to wait until something holds.

A test that waits for another thread, process or server polls a condition with a
deadline: ``wait_until(lambda: run_finished(), timeout=30)``. Kept here, a leaf
module importing nothing of weir, so the agent's, the server's and the tests'
helpers all share it without pulling each other in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    timeout: float = 30.0,
    why: Callable[[], str] | str = "",
    *,
    interval: float = 0.05,
    step: Callable[[], object] | None = None,
) -> T:
    """Call ``check`` until it returns something truthy, and return that.

    Between tries it runs ``step`` when given (e.g. one pass of an agent) and sleeps
    ``interval`` seconds. After ``timeout`` seconds it
    raises TimeoutError, its message ending in ``why`` (a string, or a function
    called then, so it can say what the state was at the time).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = why() if callable(why) else why
            raise TimeoutError(
                f"The awaited condition did not come within {timeout:g} s."
                + (f"\n{detail}" if detail else "")
            )
        if step is not None:
            step()
        time.sleep(interval)
