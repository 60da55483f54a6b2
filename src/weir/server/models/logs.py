"""Logs: written in batches, read per flow run (or task run) after a cursor.

A log line may arrive before the task run it belongs to exists (both travel in
batches), so lines keep the task's slug and map index as well as, when it is
known, the task run id; a task run's logs are found by either.

A batch may arrive twice (its answer was lost and the sender tried again); a
line carrying an identity (``sender_id``, ``seq``) is stored once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.orm import Session

from weir.schemas import actions, filters, responses
from weir.server.database import orm
from weir.server.models import bulk, runs_exist, task_runs


def write(session: Session, items: list[actions.LogCreate]) -> int:
    """Store a batch of log lines, skipping those already stored; return how many were.

    Every flow run the lines name must exist (else 404).
    """
    if not items:
        return 0
    runs_exist(session, {i.flow_run_id for i in items})
    by_key = _task_run_ids(session, items)
    by_id = _task_run_keys(session, items)
    rows: list[dict[str, Any]] = []
    for item in items:
        slug, index, task_run_id = item.task_slug, item.map_index, item.task_run_id
        if slug is not None and index is None:
            index = -1
        if task_run_id is None and slug is not None:
            task_run_id = by_key.get((item.flow_run_id, slug, index))
        elif task_run_id is not None and slug is None and task_run_id in by_id:
            slug, index = by_id[task_run_id]
        rows.append(
            {
                "flow_run_id": item.flow_run_id,
                "task_run_id": task_run_id,
                "task_slug": slug,
                "map_index": index,
                "timestamp": item.timestamp,
                "level": item.level,
                "name": item.name,
                "message": item.message,
                "sender_id": item.sender_id,
                "seq": item.seq,
            }
        )
    return bulk.insert_new_rows(session, orm.Log.__table__, rows, key=orm.LINE_IDENTITY)


def _task_run_ids(
    session: Session, items: list[actions.LogCreate]
) -> dict[tuple[uuid.UUID, str, int], uuid.UUID]:
    keys = {
        (i.flow_run_id, i.task_slug, -1 if i.map_index is None else i.map_index)
        for i in items
        if i.task_run_id is None and i.task_slug is not None
    }
    if not keys:
        return {}
    t = orm.TaskRun
    query = select(t.id, t.flow_run_id, t.task_slug, t.map_index).where(
        tuple_(t.flow_run_id, t.task_slug, t.map_index).in_(list(keys))
    )
    return {(r.flow_run_id, r.task_slug, r.map_index): r.id for r in session.execute(query)}


def _task_run_keys(
    session: Session, items: list[actions.LogCreate]
) -> dict[uuid.UUID, tuple[str, int]]:
    ids = {i.task_run_id for i in items if i.task_run_id is not None and i.task_slug is None}
    if not ids:
        return {}
    t = orm.TaskRun
    query = select(t.id, t.task_slug, t.map_index).where(t.id.in_(ids))
    return {r.id: (r.task_slug, r.map_index) for r in session.execute(query)}


def read(session: Session, flow_run_id: uuid.UUID, flt: filters.LogFilter) -> responses.LogPage:
    runs_exist(session, [flow_run_id])
    log = orm.Log
    query = select(log).where(log.flow_run_id == flow_run_id, log.id > flt.after_id)
    if flt.min_level:
        query = query.where(log.level >= flt.min_level)
    if flt.task_run_id is not None:
        task_run = task_runs.read(session, flt.task_run_id)
        query = query.where(
            or_(
                log.task_run_id == task_run.id,
                and_(log.task_slug == task_run.task_slug, log.map_index == task_run.map_index),
            )
        )
    rows = list(session.scalars(query.order_by(log.id).limit(flt.limit)))
    page = [responses.Log.model_validate(r) for r in rows]
    return responses.LogPage(logs=page, next_after_id=page[-1].id if page else flt.after_id)
