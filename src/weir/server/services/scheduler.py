"""The scheduler: keeps the next runs of every active schedule in the database.

For each flow version that is not archived, has a schedule and has it turned
on, the scheduler makes sure its next ``max_runs`` runs within ``horizon``
seconds exist. Each run's idempotency key is its scheduled time, and the
(flow, idempotency key) unique constraint means two schedulers never create
the same run twice. Clocks firing at one instant with different parameters
make one run each: the first event of an instant keeps the plain key, the
n-th (in the schedule's stable clock order) gets ``#n`` after it.

One flow's schedule never holds the others back: a stored schedule that cannot
be read or fails to give its next runs (a row stored before registration checked
schedules, or a clock that fails later) is skipped, its flow and the error logged
once at ERROR (again only when the error changes), and ``failing`` lists it
until its schedule works again or it is archived.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from weir.server.database import orm
from weir.server.errors import ServerError
from weir.server.models import flow_specs
from weir.server.models.backfill import make_scheduled_runs
from weir.server.services.base import LoopService
from weir.server.settings import SchedulerSettings
from weir.state_types import CLAIMABLE_TYPES

logger = logging.getLogger(__name__)


class UnusableSchedule(Exception):
    """A stored schedule failed to give its next runs; the message says how."""


class Scheduler(LoopService):
    name = "scheduler"

    def __init__(self, db: Any, settings: SchedulerSettings, **kw: Any) -> None:
        super().__init__(db, settings.loop_seconds, **kw)
        self.settings = settings
        #: Flow id -> why its schedule makes no runs (what was logged for it).
        self.failing: dict[uuid.UUID, str] = {}

    def run_once(self) -> int:
        with self.db.session() as session:
            # Only the schedule: the database picks it out of each serialized flow, which
            # can be large (a task per node), so that this loop does not decode them all.
            query = select(orm.Flow.id, orm.Flow.name, orm.Flow.serialized_flow["schedule"]).where(
                orm.Flow.archived.is_(False), orm.Flow.schedule_active.is_(True)
            )
            scheduled = [row for row in session.execute(query) if row[2] is not None]
        created = 0
        for flow_id, name, schedule in scheduled:
            try:
                with self.db.session(write=True) as session:
                    created += self.schedule_flow(session, flow_id, schedule)
            except (ServerError, UnusableSchedule, ValidationError, DataError) as exc:
                # This flow's data is at fault, not the database: the next flows go on.
                self._failed(flow_id, name, exc)
            else:
                self.failing.pop(flow_id, None)
        active = {row[0] for row in scheduled}
        self.failing = {fid: why for fid, why in self.failing.items() if fid in active}
        return created

    def _failed(self, flow_id: uuid.UUID, name: str, exc: Exception) -> None:
        why = str(getattr(exc, "orig", None) or exc)
        if self.failing.get(flow_id) == why:
            return  # said already; every pass would repeat it
        self.failing[flow_id] = why
        logger.error(
            "Flow %s (%s): its schedule makes no runs until it is fixed or the flow is "
            "archived (register it again with a valid schedule): %s",
            name,
            flow_id,
            why,
        )

    def schedule_flow(self, session: Session, flow_id: Any, data: Any) -> int:
        """Create the missing future runs of one flow; return how many were new."""
        now = self.clock()
        waiting = (
            session.scalar(
                select(func.count())
                .select_from(orm.FlowRun)
                .where(
                    orm.FlowRun.flow_id == flow_id,
                    orm.FlowRun.auto_scheduled.is_(True),
                    orm.FlowRun.state_type.in_(CLAIMABLE_TYPES),
                    orm.FlowRun.scheduled_start_time > now,
                )
            )
            or 0
        )
        if waiting >= self.settings.max_runs:
            return 0
        try:
            events = flow_specs.next_events(data, now, self.settings.max_runs)
        except Exception as exc:  # a stored schedule's failure is its flow's alone
            raise UnusableSchedule(f"{type(exc).__name__}: {exc}") from exc
        horizon = now + self.settings.horizon
        due = itertools.takewhile(lambda e: e.start_time.timestamp() <= horizon, events)
        return make_scheduled_runs(session, flow_id, due, now, by="scheduler")[0]
