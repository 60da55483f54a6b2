"""Lazarus: brings back runs whose process or agent died.

- A Running (or Cancelling) run whose last heartbeat is older than
  ``heartbeat_timeout`` is rescheduled to start now, up to ``max_reschedules``
  times; after that it is Failed with a message saying why. A run that was
  being cancelled is Cancelled instead.
- A run ``Submitted`` for longer than ``submitted_timeout`` (its agent never
  started it) is handed back: Scheduled again, for any agent to claim.
- A run's agent heartbeats for the runs whose processes it sees alive (see
  ``weir.server.models.agents.live_runs``): those count as the run's heartbeats,
  so a process whose own heartbeat thread is starved (a task holding the GIL in a
  long C call), or that is slow to start, is not presumed dead and run twice.
- A run it fails or cancels has its task runs still Running (or Submitted,
  Pending) closed with it (see ``weir.server.models.open_task_runs``).

Silence is judged only after lazarus has watched for a full timeout: a server
that was down, or a database that could not be read or written, kept every
heartbeat out, and a process that is alive needs one heartbeat interval to be
heard again. So a run's silence counts from the latest of its last heartbeat,
its state's time, and the moment lazarus could watch: when the service was
made (the server's start) or, after a pass that failed on the database, the
next pass. Only the current attempt's heartbeats count (the server refuses an
older attempt's, see ``weir.server.models.attempts``), and a run rescheduled
here is fenced off from its old process by the claim's new attempt.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from weir.schemas.states import StateData
from weir.server.database import orm
from weir.server.models import open_task_runs, states, traces
from weir.server.services.base import LoopService
from weir.server.settings import LazarusSettings
from weir.state_types import RUNNING_TYPES, StateType

logger = logging.getLogger(__name__)


class Lazarus(LoopService):
    name = "lazarus"

    def __init__(self, db: Any, settings: LazarusSettings, **kw: Any) -> None:
        super().__init__(db, settings.loop_seconds, **kw)
        self.settings = settings
        #: Since when lazarus has watched without a gap (None: since the next pass).
        self.watching_since: float | None = self.clock()

    def run_once(self) -> int:
        if self.watching_since is None:
            self.watching_since = self.clock()
        try:
            with self.db.session(write=True) as session:
                return self._revive_dead(session) + self._hand_back_stuck(session)
        except SQLAlchemyError:
            # The database was away: heartbeats may have been lost meanwhile, so watch
            # for a full timeout again before judging anyone's silence.
            self.watching_since = None
            raise

    def _silent_before(self, now: float, timeout: float) -> float | None:
        """Signs older than this are silence; None while lazarus has not watched long enough."""
        assert self.watching_since is not None
        if now - self.watching_since < timeout:
            return None
        return now - timeout

    def _select(self, *where: Any) -> Any:
        query = select(orm.FlowRun).where(*where).limit(500)
        if not self.db.is_sqlite:
            # NO KEY UPDATE: see weir.server.models.flow_runs.read.
            query = query.with_for_update(skip_locked=True, key_share=True)
        return query

    def _revive_dead(self, session: Session) -> int:
        now = self.clock()
        before = self._silent_before(now, self.settings.heartbeat_timeout)
        if before is None:
            return 0
        run = orm.FlowRun
        last_sign = func.coalesce(run.heartbeat, run.state_timestamp)
        query = self._select(run.state_type.in_(RUNNING_TYPES), last_sign < before)
        dead = list(session.scalars(query))
        for r in dead:
            silent = now - (r.heartbeat or r.state_timestamp)
            if r.cancel_requested:
                self._move(
                    session,
                    r,
                    StateType.CANCELLED,
                    now,
                    "cancelled",
                    f"Cancelled: its heartbeat stopped {silent:.0f} s ago while it was "
                    "being cancelled.",
                )
            elif r.lazarus_count < self.settings.max_reschedules:
                r.lazarus_count += 1
                self._move(
                    session,
                    r,
                    StateType.SCHEDULED,
                    now,
                    "rescheduled_by_lazarus",
                    f"Rescheduled ({r.lazarus_count} of at most "
                    f"{self.settings.max_reschedules}): no heartbeat for {silent:.0f} s, "
                    "so its process or agent is presumed dead.",
                )
            else:
                self._move(
                    session,
                    r,
                    StateType.FAILED,
                    now,
                    "failed_by_lazarus",
                    f"Failed: no heartbeat for {silent:.0f} s and it was already "
                    f"rescheduled {r.lazarus_count} times (the limit); see its logs for "
                    "why its process died.",
                )
        return len(dead)

    def _hand_back_stuck(self, session: Session) -> int:
        now = self.clock()
        before = self._silent_before(now, self.settings.submitted_timeout)
        if before is None:
            return 0
        run = orm.FlowRun
        query = self._select(run.state_type == StateType.SUBMITTED, run.state_timestamp < before)
        # One whose process its agent sees alive (a heartbeat since it was submitted) is
        # starting slowly, not stuck: handing it back would start it twice.
        stuck = [
            r
            for r in session.scalars(query)
            if r.heartbeat is None or r.heartbeat < max(before, r.state_timestamp)
        ]
        for r in stuck:
            if r.cancel_requested:
                self._move(
                    session,
                    r,
                    StateType.CANCELLED,
                    now,
                    "cancelled",
                    "Cancelled before its agent started it.",
                )
            else:
                self._move(
                    session,
                    r,
                    StateType.SCHEDULED,
                    now,
                    "handed_back",
                    f"Handed back: submitted {now - r.state_timestamp:.0f} s ago but never "
                    "started; any agent may claim it again.",
                )
        return len(stuck)

    @staticmethod
    def _move(
        session: Session, run: orm.FlowRun, new: StateType, now: float, kind: str, message: str
    ) -> None:
        previous = run.state_type
        logger.info("Flow run %s: %s", run.id, message)
        state = StateData(
            type=new,
            message=message,
            timestamp=now,
            start_time=now if new is StateType.SCHEDULED else None,
        )
        states.apply(session, run, state, now)
        open_task_runs.close(session, run, now)
        traces.record(
            session,
            run.id,
            kind,
            now,
            {"from": previous.value, "message": message, "agent_id": None},
        )
