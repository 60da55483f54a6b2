"""Calls to the server that wait out its absence: a restart, an overload, a database away.

A server that cannot be reached, or answers that it cannot serve now (502, 503,
504: e.g. its database is unwritable for a while), is waited for, up to
``GIVE_UP_AFTER``. Any other 5xx (a 500) says the server failed on this request:
sending the same body for ten minutes would only keep the run waiting, so it is
tried ``ERROR_TRIES`` times and then raised, for the caller to clean or drop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from weir.exceptions import ClientError

logger = logging.getLogger(__name__)

#: How long a flow-run process keeps retrying an unreachable server before giving up.
GIVE_UP_AFTER = 600.0
#: How many times a request the server failed on (500) is sent before the error is raised.
ERROR_TRIES = 3
#: Statuses that say "not now" rather than "not this request".
UNAVAILABLE = frozenset({502, 503, 504})

T = TypeVar("T")


def with_retries(call: Callable[[], T]) -> T:
    """Call, retrying while the server is unreachable or unavailable, with backoff."""
    delay = 0.2
    deadline = time.monotonic() + GIVE_UP_AFTER
    errors = 0
    while True:
        try:
            return call()
        except ClientError as exc:
            status = exc.status_code
            if status is not None and status < 500:
                raise
            if status is not None and status not in UNAVAILABLE:
                errors += 1
                if errors >= ERROR_TRIES:
                    raise
            if time.monotonic() > deadline:
                raise
            logger.warning("Server unreachable (%s); retrying in %.1f s.", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
