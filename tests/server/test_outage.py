"""The database away: said once in the log, and nothing in the background dies of it."""

from __future__ import annotations

import logging
import sqlite3
import threading

import pytest
from sqlalchemy.exc import OperationalError

from weir.server.database.outage import Outage
from weir.server.services.base import LoopService


def _unavailable() -> OperationalError:
    return OperationalError("BEGIN", None, sqlite3.OperationalError("disk I/O error"))


def test_an_outage_is_logged_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    outage = Outage("sqlite:///weir.db")
    with caplog.at_level(logging.INFO, logger="weir.server.database.outage"):
        for _ in range(50):
            outage.failed(_unavailable())
        assert outage.down
        for _ in range(50):
            outage.ok()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert "cannot be used (disk I/O error)" in messages[0]
    assert "503" in messages[0]
    assert "is back" in messages[1]
    assert not outage.down


class _Flaky(LoopService):
    """A service whose passes fail (a database error, then any error) before they work."""

    name = "flaky"

    def __init__(self, db) -> None:
        super().__init__(db, 0.01)
        self.passes = 0
        self.worked = threading.Event()

    def run_once(self) -> int:
        self.passes += 1
        if self.passes == 1:
            raise _unavailable()
        if self.passes == 2:
            raise RuntimeError("not a database error")
        self.worked.set()
        return 0


def test_a_service_outlives_passes_that_fail(db) -> None:
    service = _Flaky(db)
    service.start()
    try:
        assert service.worked.wait(30)
    finally:
        service.stop()
