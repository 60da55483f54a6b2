"""Backfill: the runs a flow's schedule would have made in a window of time, made now.

As Airflow's backfill: every scheduled time in ``[start, end]`` gets the run the
scheduler would have created for it, with the same idempotency key (so a run the
scheduler or an earlier backfill made is found, not doubled) and the event's
parameters and labels.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from weir.schemas import actions
from weir.server.errors import Unprocessable
from weir.server.models import flow_runs, flow_specs, flows

if TYPE_CHECKING:  # weir.schedules is imported when a schedule is read (see flow_specs)
    from weir.schedules.events import ClockEvent

#: The most runs one backfill makes; a longer window is refused (split it).
MAX_RUNS = 10_000


def scheduled_key(start_time: float, ordinal: int = 1) -> str:
    """The key of the ``ordinal``-th scheduled run at ``start_time`` (1: the plain key)."""
    key = f"scheduled:{start_time:.6f}"
    return key if ordinal == 1 else f"{key}#{ordinal}"


def backfill(
    session: Session, flow_id: uuid.UUID, start: float, end: float, now: float
) -> tuple[int, int]:
    """Make the runs the flow's schedule has in ``[start, end]``; (made, found already)."""
    if end < start:
        raise Unprocessable(
            "end is before start; give a window whose end is after its start.", field="end"
        )
    flow = flows.read(session, flow_id)
    schedule = flow.serialized_flow.get("schedule")
    if schedule is None:
        raise Unprocessable(
            f"The flow {flow.name!r} has no schedule, so it has nothing to backfill; "
            "`weir run` starts a single run.",
            field="flow_id",
        )
    # Events after start - 1 µs, so that one at start itself is included.
    events = flow_specs.next_events(schedule, start - 1e-6, MAX_RUNS + 1)
    window = [e for e in events if e.start_time.timestamp() <= end]
    if len(window) > MAX_RUNS:
        raise Unprocessable(
            f"The window holds more than {MAX_RUNS} scheduled runs of {flow.name!r}; "
            "backfill it in shorter windows.",
            field="end",
        )
    return make_scheduled_runs(session, flow.id, window, now, by="backfill")


def make_scheduled_runs(
    session: Session, flow_id: uuid.UUID, events: Iterable[ClockEvent], now: float, by: str
) -> tuple[int, int]:
    """The run of each schedule event, made unless it exists; (made, found already).

    The scheduler and backfill both make runs here, so an event's run has one key
    (``scheduled_key``) whoever makes it first.
    """
    made = found = 0
    at_instant: dict[float, int] = {}
    for event in events:
        when = event.start_time.timestamp()
        at_instant[when] = at_instant.get(when, 0) + 1
        action = actions.FlowRunCreate(
            flow_id=flow_id,
            parameters=dict(event.parameter_defaults or {}),
            labels=list(event.labels) if event.labels else None,
            idempotency_key=scheduled_key(when, at_instant[when]),
            scheduled_start_time=when,
        )
        made_run = flow_runs.create(session, action, now, auto_scheduled=True)
        if made_run.created:
            flow_runs.traces.record(
                session, made_run.run.id, "scheduled", now, {"by": by, "start_time": when}
            )
            made += 1
        else:
            found += 1
    return made, found
