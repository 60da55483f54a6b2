"""Retention: deletes finished flow runs older than the retention, with all their rows.

A run has expired when it has finished (a state in ``FINISHED_TYPES``) and it
ended (``ended_at``, the server's clock) more than ``retention`` seconds ago.
Each pass takes the expired runs, oldest end first, ``batch`` at a time, and
purges them: their task runs, logs, trace events and state history go at most
``chunk`` rows per write transaction, then the runs themselves with their
labels and concurrency slots (see ``weir.server.models.deletion``). A run
restarted meanwhile is no longer expired and keeps what is left. On SQLite the
pages freed are then given back to the file system (``database.vacuum``).

Flows are never deleted: an archived flow's versions stay, so that the runs
left of them still name their flow.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select

from weir.engine.state import FINISHED_TYPES
from weir.server.database import orm, vacuum
from weir.server.database.engine import Database
from weir.server.errors import Conflict
from weir.server.models import deletion
from weir.server.models.reading import write_stored
from weir.server.services.base import LoopService
from weir.server.settings import RetentionSettings

logger = logging.getLogger(__name__)


def purge(
    db: Database,
    run_ids: Sequence[uuid.UUID],
    where: Sequence[ColumnElement[bool]],
    settings: RetentionSettings,
    stop: threading.Event | None = None,
) -> int:
    """Delete the runs that still match ``where`` and their rows, a chunk per transaction.

    Returns how many runs went (0 when ``stop`` was set before the end).
    """
    ids = list(run_ids)
    for table in deletion.LARGE_TABLES:
        deleted = settings.chunk
        while deleted >= settings.chunk:
            with db.session(write=True) as session:
                ids = deletion.still(session, ids, where)
                deleted = deletion.delete_chunk(session, table, ids, settings.chunk) if ids else 0
            if not ids or _paused(settings, stop):
                return 0
    with db.session(write=True) as session:
        return deletion.delete_runs(session, deletion.still(session, ids, where))


def _paused(settings: RetentionSettings, stop: threading.Event | None) -> bool:
    """Wait a moment, so that this process's other writers get in; True if asked to stop."""
    if stop is None:
        time.sleep(settings.pause)
        return False
    return stop.wait(settings.pause)


def delete_run(db: Database, run_id: uuid.UUID, settings: RetentionSettings) -> None:
    """Delete one run and its rows: a finished run, or one waiting for an agent (else 409)."""
    with db.session(write=True) as session:
        run = deletion.check_deletable(session, run_id)
        if run.state_type not in FINISHED_TYPES:
            # Gone in this one transaction, before an agent can claim it (it has few rows).
            deletion.delete_runs(session, [run.id])
            return
        name = run.name
    if not purge(db, [run_id], [deletion.FINISHED], settings):
        with db.session() as session:
            if session.get(orm.FlowRun, run_id) is not None:
                raise Conflict(
                    f"Flow run {name} ({run_id}) was restarted while it was being deleted; "
                    "part of its task runs and logs are gone. Cancel it, then delete it again."
                )
    vacuum.reclaim(db)


class Retention(LoopService):
    name = "retention"

    def __init__(self, db: Any, settings: RetentionSettings, **kw: Any) -> None:
        super().__init__(db, settings.loop_seconds, **kw)
        self.settings = settings

    def expired(self) -> list[ColumnElement[bool]]:
        """What makes a run expired now: finished, and ended before the retention."""
        assert self.settings.retention is not None
        cutoff = self.clock() - self.settings.retention
        return [deletion.FINISHED, orm.FlowRun.ended_at < cutoff]

    def run_once(self) -> int:
        if self.settings.retention is None:
            return 0
        # A stored batch may name an expired run: written now, it goes with its run.
        write_stored(self.db, self.clock)
        where = self.expired()
        removed = 0
        while not self._stop.is_set():
            with self.db.session() as session:
                query = (
                    select(orm.FlowRun.id)
                    .where(*where)
                    .order_by(orm.FlowRun.ended_at)
                    .limit(self.settings.batch)
                )
                ids = list(session.scalars(query))
            if not ids:
                break
            gone = purge(self.db, ids, where, self.settings, self._stop)
            removed += gone
            if gone < len(ids) and not self._stop.is_set():
                break  # some were restarted meanwhile: the next pass looks again
        if removed:
            logger.info(
                "Service %s: deleted %d flow runs that ended over %.0f s ago.",
                self.name,
                removed,
                self.settings.retention,
            )
            vacuum.reclaim(self.db)
        return removed
