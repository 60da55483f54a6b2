"""The database going away and coming back, said once each in the server's log.

When the database cannot be written (its files made read-only, a full disk,
PostgreSQL restarting or read-only), every request, service pass and writer
round fails alike until it is back: the API answers them 503 with Retry-After,
and the log says so once, with the first error, rather than once per request.
The first transaction that commits afterwards says it is back.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import DBAPIError, OperationalError

logger = logging.getLogger(__name__)

#: PostgreSQL's SQLSTATEs that mean "not now" (read-only transaction, in recovery,
#: shutting down, too many connections): its driver raises some of them as errors
#: other than OperationalError.
UNAVAILABLE_STATES = frozenset({"25006", "57P01", "57P02", "57P03", "53300"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve now (rather than a bad request)."""
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None) in UNAVAILABLE_STATES
    return False


def log_failure(log: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """Log a failed background pass: with its traceback, unless the database is away
    (``Outage`` said so once already)."""
    if is_unavailable(exc):
        log.debug(message + " (%s)", *args, exc)
    else:
        log.error(message, *args, exc_info=exc)


class Outage:
    """Whether the database is away; ``failed`` and ``ok`` log only the changes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.since: float | None = None
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        logger.error(
            "The database %s cannot be used (%s): requests are answered 503 until it is back.",
            self.name,
            first,
        )

    def ok(self) -> None:
        # Read without the lock first: this runs after every transaction.
        if self.since is None:
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            logger.warning(
                "The database %s is back, after %.1f s.", self.name, time.monotonic() - since
            )
