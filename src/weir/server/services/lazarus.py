"""Lazarus: brings back runs whose process or agent died.

- A Running (or Cancelling) run whose last heartbeat is older than
  ``heartbeat_timeout`` is rescheduled to start now, up to ``max_reschedules``
  times; after that it is Failed with a message saying why. A run that was
  being cancelled is Cancelled instead.
- A run ``Submitted`` for longer than ``submitted_timeout`` (its agent never
  started it) is handed back: Scheduled again, for any agent to claim.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from weir.engine.state import StateType
from weir.schemas.states import StateData
from weir.server.database import orm
from weir.server.models import states, traces
from weir.server.services.base import LoopService
from weir.server.settings import LazarusSettings

logger = logging.getLogger(__name__)


class Lazarus(LoopService):
    name = "lazarus"

    def __init__(self, db: Any, settings: LazarusSettings, **kw: Any) -> None:
        super().__init__(db, settings.loop_seconds, **kw)
        self.settings = settings

    def run_once(self) -> int:
        with self.db.session(write=True) as session:
            return self._revive_dead(session) + self._hand_back_stuck(session)

    def _select(self, *where: Any) -> Any:
        query = select(orm.FlowRun).where(*where).limit(500)
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        return query

    def _revive_dead(self, session: Session) -> int:
        now = self.clock()
        run = orm.FlowRun
        last_sign = func.coalesce(run.heartbeat, run.state_timestamp)
        query = self._select(
            run.state_type.in_([StateType.RUNNING, StateType.CANCELLING]),
            last_sign < now - self.settings.heartbeat_timeout,
        )
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
                    f"Rescheduled (attempt {r.lazarus_count} of "
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
        run = orm.FlowRun
        query = self._select(
            run.state_type == StateType.SUBMITTED,
            run.state_timestamp < now - self.settings.submitted_timeout,
        )
        stuck = list(session.scalars(query))
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
        traces.record(
            session,
            run.id,
            kind,
            now,
            {"from": previous.value, "message": message, "agent_id": None},
        )
