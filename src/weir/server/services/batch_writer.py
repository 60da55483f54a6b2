"""Stored task-run batches written into task runs: before a read, and soon after a run's end.

Every read of task runs writes them first (``weir.server.models.reading``).
``BatchWriter`` is a thread of the server that writes them (``write_stored``)
once batches stop arriving for ``quiet`` seconds, so that task runs reach their
tables without waiting for a reader, and without taking the server from a run
that is still sending. When ``sweeps()`` says so (this process leads the services,
see ``leadership``), it also looks every ``recheck`` seconds, for batches another
server process took or a killed server left: each server writes the batches it took
itself, at once, and the leader alone sweeps up the rest.

When ``stored`` is a ``StoredSignal`` and a flow run ends (its last batch came with
its final state: nothing more is coming from it), the thread writes at once,
without the quiet wait, so that the run's task runs are in their table a write's
time after its end.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from weir.server.database.engine import Database
from weir.server.database.outage import log_failure
from weir.server.models.reading import write_stored

logger = logging.getLogger(__name__)

#: Seconds without a new batch before the thread writes (a run's batches come in bursts).
QUIET = 0.05
#: Seconds a batch may wait while batches keep coming (a long, busy run).
MAX_DELAY = 1.0
#: Seconds between looks when no batch was taken here.
RECHECK = 2.0


class StoredSignal(threading.Event):
    """The event set when a batch was stored, which can also say that a run ended."""

    def __init__(self) -> None:
        super().__init__()
        #: Set with the event when a flow run ended: write now, batches stopped for it.
        self.ended = threading.Event()

    def set_ended(self) -> None:
        self.ended.set()
        self.set()


class BatchWriter:
    """A daemon thread writing stored batches once ``stored`` stops being set for a while."""

    def __init__(
        self,
        db: Database,
        stored: threading.Event,
        *,
        clock: Callable[[], float] = time.time,
        quiet: float = QUIET,
        max_delay: float = MAX_DELAY,
        recheck: float = RECHECK,
        sweeps: Callable[[], bool] = lambda: True,
    ) -> None:
        self.db = db
        self.clock = clock
        self.stored = stored
        self.quiet = quiet
        self.max_delay = max_delay
        self.recheck = recheck
        self.sweeps = sweeps
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="weir-batch-writer", daemon=True)

    def start(self) -> BatchWriter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._ended().set()
        self.stored.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.stored.wait(self.recheck) and not self.sweeps():
                continue  # nothing taken here, and another process sweeps
            self._wait_for_quiet()
            if self._stop.is_set():
                return
            try:
                self.written += write_stored(self.db, self.clock)
            except Exception as exc:  # noqa: BLE001 - the thread must outlive any round
                # E.g. the database briefly away: readers still write first, and so
                # does the next round.
                log_failure(logger, exc, "Writing stored task-run batches failed; trying again.")

    def _ended(self) -> threading.Event:
        """What ends a quiet wait early: a run's end (``StoredSignal``), or stop()."""
        ended = getattr(self.stored, "ended", None)
        return ended if isinstance(ended, threading.Event) else self._stop

    def _wait_for_quiet(self) -> None:
        ended = self._ended()
        waited = 0.0
        while self.stored.is_set() and waited < self.max_delay and not self._stop.is_set():
            if ended.is_set() and ended is not self._stop:
                # Cleared before the write: a later batch sets them again for the next.
                ended.clear()
                self.stored.clear()
                return
            self.stored.clear()
            ended.wait(self.quiet)
            waited += self.quiet
