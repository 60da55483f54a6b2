"""How a call to the server is tried again: one declared policy per kind of call.

Every call to the server goes through :meth:`Client.request` under one of the
policies below, and only under one: a call that waits out an outage is sent with
the long policy itself, never wrapped around a call that has retries of its own,
so the waits never multiply.

What is tried again, under every policy:

* a request that never reached the server (the connection was refused or timed
  out), always;
* a request that may have reached it and got no answer (the connection broke,
  the answer timed out), when repeating it is harmless: its method is idempotent,
  or the caller made it safe to send twice (``repeat_sent``: the flow-run
  process's writes carry versions, attempts and sequence numbers for that);
* an answer that says "not now" (502, 503, 504: a restart, an overload, a
  database away);
* an answer that says the server failed on this very request (any other 5xx) only
  ``server_error_tries`` times in all: sending the same body for ten minutes would
  only keep the run waiting.

Never tried again: any 4xx, among them the 409 of a stale version or of a write
from an attempt that another one took over.

The first try is a plain call: tenacity, which does the waiting and counting, is
imported and set up only once a try has failed, so a call to a healthy server
costs nothing more, and a process that never meets a failure never imports it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from weir.exceptions import ClientError

if TYPE_CHECKING:
    import tenacity

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Statuses that say "not now" rather than "not this request".
UNAVAILABLE = frozenset({502, 503, 504})


@dataclass(frozen=True)
class Policy:
    """How often, and how long, one kind of call is tried.

    Waits grow from ``wait_initial`` seconds, doubling up to ``wait_max``, without
    jitter (a handful of processes per server, not a herd). A call stops being tried
    after ``attempts`` tries or, once ``timeout`` seconds have passed since the
    first, after the next failed one, whichever comes first (None: no such limit).
    """

    name: str
    attempts: int | None = None
    timeout: float | None = None
    wait_initial: float = 0.25
    wait_max: float = 5.0
    #: Whether a request that may have reached the server is sent again, whatever its
    #: method: the caller's writes are safe to repeat.
    repeat_sent: bool = False
    #: Tries in all for a request the server failed on (a 500): 1 sends it once.
    server_error_tries: int = 1
    #: The level of the line logged before each wait.
    log_level: int = logging.DEBUG

    def replace(self, **changes: Any) -> Policy:
        return dataclasses.replace(self, **changes)

    def call(self, send: Callable[[], T], *, idempotent: bool = True, what: str = "") -> T:
        """``send()``, tried again as this policy says; the last error is raised.

        ``idempotent``: whether sending it twice is harmless (its HTTP method says);
        ``what``: the request, for the log.
        """
        try:
            return send()
        except ClientError as exc:
            if self.attempts == 1 or not self.retryable(exc, idempotent):
                raise
            return self._again(send, exc, idempotent, what)

    def retryable(self, exc: BaseException, idempotent: bool = True) -> bool:
        """Whether a try that failed with ``exc`` is worth another (limits aside)."""
        if not isinstance(exc, ClientError):
            return False
        status = exc.status_code
        if status is None:  # no answer: sent again if it never left, or may be repeated
            return not _may_have_arrived(exc) or idempotent or self.repeat_sent
        if status in UNAVAILABLE:
            return True
        return status >= 500 and self.server_error_tries > 1

    def _again(self, send: Callable[[], T], first: ClientError, idempotent: bool, what: str) -> T:
        import tenacity

        # The try already made counts as tenacity's first: handed over as its outcome.
        replay: list[ClientError] = [first]

        def attempt() -> T:
            if replay:
                raise replay.pop()
            return send()

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda exc: self.retryable(exc, idempotent)),
            stop=self._stop(),
            wait=tenacity.wait_exponential(multiplier=self.wait_initial, max=self.wait_max),
            before_sleep=lambda state: self._log(state, what),
            reraise=True,
        )
        return retrying(attempt)

    def _stop(self) -> tenacity.stop.stop_base:
        import tenacity

        server_errors = 0

        def failed_too_often(state: tenacity.RetryCallState) -> bool:
            nonlocal server_errors
            exc = state.outcome.exception() if state.outcome else None
            status = getattr(exc, "status_code", None)
            if status is not None and status >= 500 and status not in UNAVAILABLE:
                server_errors += 1
            return server_errors >= self.server_error_tries

        stop: tenacity.stop.stop_base = tenacity.stop_any(failed_too_often)  # type: ignore[arg-type]
        if self.attempts is not None:
            stop = stop | tenacity.stop_after_attempt(self.attempts)
        if self.timeout is not None:
            stop = stop | tenacity.stop_after_delay(self.timeout)
        return stop

    def _log(self, state: tenacity.RetryCallState, what: str) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.log(
            self.log_level,
            "%s (try %d, %s): %s; trying again in %.2f s.",
            what or "A call to the server",
            state.attempt_number,
            self.name,
            exc,
            wait,
        )


def _may_have_arrived(exc: ClientError) -> bool:
    """Whether a request that got no answer may have reached the server all the same."""
    return not isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout)


#: An ordinary call (the CLI, an agent, a script): a few quick tries over about 4 s,
#: enough for a server restarting; a request that may have arrived is sent again only
#: when its method is idempotent.
API_CALL = Policy("api call", attempts=5, wait_initial=0.25)

#: A flow-run process's reports, state writes and concurrency slots: tried for up to
#: ten minutes, so that its states outlive a server outage (a restart, a database
#: away), waits growing from 0.2 s to 5 s. Its writes are safe to send twice (versions,
#: attempts, sequence numbers), so a request that may have arrived goes again too. A
#: 500 is sent three times, then raised for the caller to clean or drop the batch.
REPORT_DELIVERY = Policy(
    "report delivery",
    timeout=600.0,
    wait_initial=0.2,
    wait_max=5.0,
    repeat_sent=True,
    server_error_tries=3,
    log_level=logging.WARNING,
)

#: A flow run's heartbeat: tried once. The next heartbeat comes an interval later
#: anyway, while backing off would keep a live run silent for seconds after its server
#: is back, which lazarus may then take for a dead process.
HEARTBEAT = Policy("heartbeat", attempts=1)

#: The CLI's calls: fewer tries than API_CALL, so that a command against a server that
#: is not there says so within a second.
CLI_CALL = API_CALL.replace(name="cli call", attempts=3)

#: The agent's loop: after a pass whose calls (each under API_CALL) failed, it waits
#: this long before the next pass, for as long as it runs. Its wait is the policy's
#: ``wait_initial``; a stop cuts it short.
AGENT_POLL = Policy("agent poll", wait_initial=2.0, wait_max=2.0)
