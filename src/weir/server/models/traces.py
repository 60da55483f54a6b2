"""Trace events: the timestamped steps of a run, written by the server and the runner.

A run's trace is the events stored for it (created, claimed, process started,
flow loaded, retries scheduled, ...) merged with the task events read off its
task runs' state histories: ``task_submitted`` (when the engine handed the
task run to its executor), ``task_started`` (each Running) and ``task_finished``
(each finished state). The engine reports those with the states themselves,
so the busiest part of a trace costs no rows of its own.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from weir.schemas import actions, responses
from weir.server.database import orm
from weir.server.models import bulk, runs_exist
from weir.state_types import FINISHED_TYPES


def record(
    session: Session, run_id: uuid.UUID, kind: str, timestamp: float, data: dict[str, Any]
) -> None:
    session.add(orm.TraceEvent(flow_run_id=run_id, kind=kind, timestamp=timestamp, data=data))


def write(session: Session, events: list[actions.TraceEventCreate]) -> int:
    """Store a batch of trace events, skipping those already stored; return how many were.

    Every flow run named must exist. An event carrying an identity (``sender_id``,
    ``seq``) is stored once however often its batch is sent.
    """
    if not events:
        return 0
    runs_exist(session, {e.flow_run_id for e in events})
    rows = [
        {
            "flow_run_id": e.flow_run_id,
            "kind": e.kind,
            "timestamp": e.timestamp,
            "task_slug": e.task_slug,
            "map_index": e.map_index,
            "data": e.data,
            "sender_id": e.sender_id,
            "seq": e.seq,
        }
        for e in events
    ]
    return bulk.insert_new_rows(session, orm.TraceEvent.__table__, rows, key=orm.LINE_IDENTITY)


def read(session: Session, run_id: uuid.UUID) -> list[responses.TraceEvent]:
    """The run's whole trace, oldest first (stored events first among equal times)."""
    query = (
        select(orm.TraceEvent)
        .where(orm.TraceEvent.flow_run_id == run_id)
        .order_by(orm.TraceEvent.timestamp, orm.TraceEvent.id)
    )
    stored = [responses.TraceEvent.model_validate(row) for row in session.scalars(query)]
    events = stored + _task_events(session, run_id)
    events.sort(key=lambda e: e.timestamp)  # stable: keeps the order within equal times
    return events


_FINISHED = frozenset(t.value for t in FINISHED_TYPES)


def _task_events(session: Session, run_id: uuid.UUID) -> list[responses.TraceEvent]:
    """The task events of the trace, read off the run's task-run histories."""
    t = orm.TaskRun
    query = (
        select(t.task_slug, t.map_index, t.history)
        .where(t.flow_run_id == run_id)
        .order_by(t.created, t.task_slug, t.map_index)
    )
    events = []
    for slug, index, history in session.execute(query):
        map_index = None if index < 0 else index
        where = {"flow_run_id": run_id, "task_slug": slug, "map_index": map_index}
        for entry in history:
            state = entry["state"]
            if "submitted" in entry:
                events.append(_derived(where, "task_submitted", entry["submitted"]))
            if state["type"] == "Running":
                events.append(_derived(where, "task_started", state["timestamp"]))
            elif state["type"] in _FINISHED:
                data = {"state": state["type"]}
                events.append(_derived(where, "task_finished", state["timestamp"], data))
    return events


def _derived(
    where: dict[str, Any], kind: str, timestamp: float, data: dict[str, Any] | None = None
) -> responses.TraceEvent:
    return responses.TraceEvent(id=None, kind=kind, timestamp=timestamp, data=data or {}, **where)
