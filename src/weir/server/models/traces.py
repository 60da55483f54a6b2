"""Trace events: the timestamped steps of a run, written by the server and the runner."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from weir.schemas import actions, responses
from weir.server.database import orm
from weir.server.models import runs_exist


def record(
    session: Session, run_id: uuid.UUID, kind: str, timestamp: float, data: dict[str, Any]
) -> None:
    session.add(orm.TraceEvent(flow_run_id=run_id, kind=kind, timestamp=timestamp, data=data))


def write(session: Session, events: list[actions.TraceEventCreate]) -> int:
    """Store a batch of trace events (every flow run named must exist)."""
    if not events:
        return 0
    runs_exist(session, {e.flow_run_id for e in events})
    session.execute(
        insert(orm.TraceEvent),
        [
            {
                "flow_run_id": e.flow_run_id,
                "kind": e.kind,
                "timestamp": e.timestamp,
                "task_slug": e.task_slug,
                "map_index": e.map_index,
                "data": e.data,
            }
            for e in events
        ],
    )
    return len(events)


def read(session: Session, run_id: uuid.UUID) -> list[responses.TraceEvent]:
    query = (
        select(orm.TraceEvent)
        .where(orm.TraceEvent.flow_run_id == run_id)
        .order_by(orm.TraceEvent.timestamp, orm.TraceEvent.id)
    )
    return [responses.TraceEvent.model_validate(row) for row in session.scalars(query)]
