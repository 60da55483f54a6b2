"""Calls to the server that wait out its absence: a restart, an overload (5xx)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from weir.exceptions import ClientError

logger = logging.getLogger(__name__)

#: How long a flow-run process keeps retrying an unreachable server before giving up.
GIVE_UP_AFTER = 600.0

T = TypeVar("T")


def with_retries(call: Callable[[], T]) -> T:
    """Call, retrying while the server is unreachable or overloaded (5xx), with backoff."""
    delay = 0.2
    deadline = time.monotonic() + GIVE_UP_AFTER
    while True:
        try:
            return call()
        except ClientError as exc:
            status = exc.status_code
            if status is not None and status < 500:
                raise
            if time.monotonic() > deadline:
                raise
            logger.warning("Server unreachable (%s); retrying in %.1f s.", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
