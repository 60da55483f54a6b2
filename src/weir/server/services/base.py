"""LoopService: call ``run_once()`` every ``loop_seconds`` in a thread until stopped.

Services are idempotent and do each pass in short transactions, so several
copies (in several processes) may run at once, and a pass that fails is simply
tried again on the next loop.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from weir.server.database.engine import Database
from weir.server.database.outage import log_failure

logger = logging.getLogger(__name__)


class LoopService(ABC):
    name = "service"

    def __init__(
        self,
        db: Database,
        loop_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.loop_seconds = loop_seconds
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def run_once(self) -> int:
        """Do one pass; return how many things it changed."""

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run_forever, name=f"weir-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        logger.info("Service %s: started, every %.1f s.", self.name, self.loop_seconds)
        while not self._stop.is_set():
            try:
                # What a pass makes claimable wakes waiting claims through the database
                # (Database.on_new_work), as any write does.
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - a service must outlive any pass
                # The database may be briefly away (restart, failover, unwritable): the
                # next pass retries.
                log_failure(
                    logger,
                    exc,
                    "Service %s: a pass failed; trying again in %.1f s.",
                    self.name,
                    self.loop_seconds,
                )
            self._stop.wait(self.loop_seconds)
        logger.info("Service %s: stopped.", self.name)
