"""The scheduler: keeps the next runs of every active schedule in the database.

For each flow version that is not archived, has a schedule and has it turned
on, the scheduler makes sure its next ``max_runs`` runs within ``horizon``
seconds exist. Each run's idempotency key is its scheduled time, and the
(flow, idempotency key) unique constraint means two schedulers never create
the same run twice. Clocks firing at one instant with different parameters
make one run each: the first event of an instant keeps the plain key, the
n-th (in the schedule's stable clock order) gets ``#n`` after it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from weir.schemas import actions
from weir.server.database import orm
from weir.server.errors import ServerError
from weir.server.models import flow_runs, states
from weir.server.services.base import LoopService
from weir.server.settings import SchedulerSettings

logger = logging.getLogger(__name__)


def idempotency_key(start_time: float, ordinal: int = 1) -> str:
    """The key of the ``ordinal``-th scheduled run at ``start_time`` (1: the plain key)."""
    key = f"scheduled:{start_time:.6f}"
    return key if ordinal == 1 else f"{key}#{ordinal}"


class Scheduler(LoopService):
    name = "scheduler"

    def __init__(self, db: Any, settings: SchedulerSettings, **kw: Any) -> None:
        super().__init__(db, settings.loop_seconds, **kw)
        self.settings = settings

    def run_once(self) -> int:
        with self.db.session() as session:
            # Only the schedule: the database picks it out of each serialized flow, which
            # can be large (a task per node), so that this loop does not decode them all.
            query = select(orm.Flow.id, orm.Flow.serialized_flow["schedule"]).where(
                orm.Flow.archived.is_(False), orm.Flow.schedule_active.is_(True)
            )
            scheduled = [
                (fid, schedule)
                for fid, schedule in session.execute(query)
                if isinstance(schedule, dict) and schedule
            ]
        created = 0
        for flow_id, schedule in scheduled:
            try:
                with self.db.session(write=True) as session:
                    created += self.schedule_flow(session, flow_id, schedule)
            except ServerError as exc:
                logger.warning("Flow %s: its schedule cannot make runs: %s", flow_id, exc)
        return created

    def schedule_flow(self, session: Session, flow_id: Any, data: dict[str, Any]) -> int:
        """Create the missing future runs of one flow; return how many were new."""
        from weir.schedules import Schedule

        now = self.clock()
        waiting = (
            session.scalar(
                select(func.count())
                .select_from(orm.FlowRun)
                .where(
                    orm.FlowRun.flow_id == flow_id,
                    orm.FlowRun.auto_scheduled.is_(True),
                    orm.FlowRun.state_type.in_(states.WAITING_TYPES),
                    orm.FlowRun.scheduled_start_time > now,
                )
            )
            or 0
        )
        if waiting >= self.settings.max_runs:
            return 0
        schedule = Schedule.deserialize(data)
        after = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc)
        events = schedule.next(self.settings.max_runs, after=after, return_events=True)
        created = 0
        at_instant: dict[float, int] = {}
        for event in events:
            start = event.start_time.timestamp()
            if start > now + self.settings.horizon:
                break
            at_instant[start] = at_instant.get(start, 0) + 1
            action = actions.FlowRunCreate(
                flow_id=flow_id,
                parameters=dict(event.parameter_defaults or {}),
                labels=list(event.labels) if event.labels else None,
                idempotency_key=idempotency_key(start, at_instant[start]),
                scheduled_start_time=start,
            )
            run, new = flow_runs.create(session, action, now, auto_scheduled=True)
            if new:
                flow_runs.traces.record(
                    session, run.id, "scheduled", now, {"by": "scheduler", "start_time": start}
                )
                created += 1
        return created
