"""Task runs: created on first sight by the batch upsert, keyed by (flow run, slug, map index).

The batch endpoint is the engine's hot path to the server, so it works in bulk:
one query reads the task runs a batch names, the items are checked in memory
in the order sent (several items may touch one task run), and three bulk
statements write new task runs, changed task runs and history rows. Each item
is accepted or refused on its own; a refused item changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from weir.engine.state import check_transition
from weir.exceptions import InvalidTransition
from weir.schemas import actions, responses
from weir.schemas.states import StateData
from weir.server.database import orm
from weir.server.errors import NotFound
from weir.server.models import states

#: Task-run ids are derived, not random: uuid5 of "<flow run id>/<task slug>/<map index>"
#: (empty index when not mapped) in this namespace. The engine derives the same id
#: for its context (``weir.context``), so both sides name a task run alike before
#: they have ever talked.
TASK_RUN_NAMESPACE = uuid.UUID("5f0c6a1e-8d3b-4c2a-9e47-1b6d2f3a9c10")

_CHUNK = 400  # rows per IN (...) query: well under SQLite's bound-parameter limit

Key = tuple[uuid.UUID, str, int]


@dataclass(slots=True)
class _Current:
    """A task run as the batch sees it while applying items in order."""

    id: uuid.UUID
    type: Any
    version: int
    is_new: bool
    row: dict[str, Any] = field(default_factory=dict)


def _load(session: Session, keys: list[Key], lock: bool) -> dict[Key, _Current]:
    """The task runs with these keys that exist, as the batch's starting point."""
    # Three plain IN lists use the unique index on both databases and plan fast; they
    # may match a few rows beyond the keys, which the exact match below drops.
    wanted = set(keys)
    found: dict[Key, _Current] = {}
    t = orm.TaskRun
    columns = (t.id, t.flow_run_id, t.task_slug, t.map_index, t.state_type, t.version)
    runs = sorted({k[0] for k in keys})
    slugs = sorted({k[1] for k in keys})
    indexes = sorted({k[2] for k in keys})
    for start in range(0, len(slugs), _CHUNK):
        query = select(*columns).where(
            t.flow_run_id.in_(runs),
            t.task_slug.in_(slugs[start : start + _CHUNK]),
            t.map_index.in_(indexes),
        )
        if lock:
            query = query.with_for_update()
        for row in session.execute(query):
            key = (row.flow_run_id, row.task_slug, row.map_index)
            if key in wanted:
                found[key] = _Current(row.id, row.state_type, row.version, is_new=False)
    return found


def task_run_id(flow_run_id: uuid.UUID, task_slug: str, map_index: int) -> uuid.UUID:
    """The id a task run gets (see TASK_RUN_NAMESPACE)."""
    index = "" if map_index < 0 else str(map_index)
    return uuid.uuid5(TASK_RUN_NAMESPACE, f"{flow_run_id}/{task_slug}/{index}")


def _state_fields(state: StateData) -> dict[str, Any]:
    return {
        "state_type": state.type,
        "state_message": state.message,
        "state_timestamp": state.timestamp,
        "state_start_time": state.start_time,
        "state_run_count": state.run_count,
        "state_data": _data(state),
    }


def _data(state: StateData) -> dict[str, Any] | None:
    return state.extra_data() or None


def upsert(
    session: Session, items: list[actions.TaskRunUpsert], now: float, *, lock: bool = False
) -> list[dict[str, Any]]:
    """Apply a batch of task-run states in order; report each item's outcome.

    The outcomes are plain dicts with the fields of ``responses.TaskRunWritten``
    (the API validates them once, on the way out).
    """
    run_ids = {i.flow_run_id for i in items}
    known_runs = set(session.scalars(select(orm.FlowRun.id).where(orm.FlowRun.id.in_(run_ids))))
    keys = list({(i.flow_run_id, i.task_slug, i.map_index) for i in items})
    current = _load(session, keys, lock)
    history: list[dict[str, Any]] = []
    results = [_apply_item(item, current, known_runs, history, now) for item in items]
    # A task run first seen in an item that was refused is not created.
    new_rows = [c.row for c in current.values() if c.is_new and "version" in c.row]
    changed = [c.row for c in current.values() if not c.is_new and "version" in c.row]
    task_run = orm.TaskRun.__table__
    history_table = orm.TaskRunState.__table__
    if session.get_bind().dialect.name == "postgresql":
        from weir.server.models import pg_bulk

        if new_rows:
            pg_bulk.copy_rows(session, task_run, new_rows)
        if changed:
            pg_bulk.update_rows(session, task_run, changed, key="id")
        if history:
            pg_bulk.copy_rows(session, history_table, history)
        return results
    # Core statements on the tables: the ORM's bulk paths cost more per row here.
    if new_rows:
        session.execute(insert(task_run), new_rows)
    if changed:
        rows = [{"b_id" if k == "id" else k: v for k, v in row.items()} for row in changed]
        columns = {name: bindparam(name) for name in rows[0] if name != "b_id"}
        session.execute(
            update(task_run).where(task_run.c.id == bindparam("b_id")).values(columns), rows
        )
    if history:
        session.execute(insert(history_table), history)
    return results


def _apply_item(
    item: actions.TaskRunUpsert,
    current: dict[Key, _Current],
    known_runs: set[uuid.UUID],
    history: list[dict[str, Any]],
    now: float,
) -> dict[str, Any]:
    """Apply one item in memory; return its outcome (TaskRunWritten fields)."""
    out: dict[str, Any] = {
        "task_slug": item.task_slug,
        "map_index": item.map_index,
        "flow_run_id": item.flow_run_id,
        "accepted": False,
        "task_run_id": None,
        "version": None,
        "state_type": None,
        "reason": None,
    }
    if item.flow_run_id not in known_runs:
        out["reason"] = f"There is no flow run with id {item.flow_run_id}."
        return out
    key = (item.flow_run_id, item.task_slug, item.map_index)
    cur = current.get(key)
    if cur is None:
        new_id = task_run_id(item.flow_run_id, item.task_slug, item.map_index)
        cur = current[key] = _Current(new_id, None, 0, is_new=True)
        cur.row = {
            "id": cur.id,
            "flow_run_id": item.flow_run_id,
            "task_slug": item.task_slug,
            "map_index": item.map_index,
            "created": now,
        }
    if not cur.is_new or cur.version:
        out["task_run_id"] = cur.id
    state = item.state
    if item.version is not None and item.version != cur.version:
        out["version"] = cur.version
        out["reason"] = (
            f"Task run {item.task_slug}[{item.map_index}] is at version "
            f"{cur.version}, not {item.version}; the state was not written."
        )
        return out
    try:
        check_transition(cur.type, state.type, subject=f"task run {item.task_slug}")
    except InvalidTransition as exc:
        out["version"] = cur.version
        out["reason"] = str(exc)
        return out
    cur.version += 1
    cur.type = state.type
    data = _data(state)
    cur.row.update(
        id=cur.id,
        version=cur.version,
        updated=now,
        state_type=state.type,
        state_message=state.message,
        state_timestamp=state.timestamp,
        state_start_time=state.start_time,
        state_run_count=state.run_count,
        state_data=data,
    )
    history.append(
        {
            "task_run_id": cur.id,
            "version": cur.version,
            "type": state.type,
            "message": state.message,
            "timestamp": state.timestamp,
            "start_time": state.start_time,
            "run_count": state.run_count,
            "data": data,
        }
    )
    out.update(accepted=True, task_run_id=cur.id, version=cur.version, state_type=state.type)
    return out


def read(session: Session, task_run_id: uuid.UUID) -> orm.TaskRun:
    task_run = session.get(orm.TaskRun, task_run_id)
    if task_run is None:
        raise NotFound(f"There is no task run with id {task_run_id}.")
    return task_run


def set_state(
    session: Session, task_run_id: uuid.UUID, action: actions.SetState, now: float
) -> orm.TaskRun:
    """One task run's state write; a stale version or forbidden move is a 409."""
    task_run = session.scalar(
        select(orm.TaskRun).where(orm.TaskRun.id == task_run_id).with_for_update()
    )
    if task_run is None:
        raise NotFound(f"There is no task run with id {task_run_id}.")
    subject = f"Task run {task_run.task_slug}[{task_run.map_index}] ({task_run.id})"
    states.check_version(task_run, action.version, subject)
    states.check_move(task_run.state_type, action.state.type, subject.lower())
    task_run.version += 1
    for name, value in _state_fields(action.state).items():
        setattr(task_run, name, value)
    session.add(
        orm.TaskRunState(
            task_run_id=task_run.id,
            version=task_run.version,
            type=action.state.type,
            message=action.state.message,
            timestamp=action.state.timestamp,
            start_time=action.state.start_time,
            run_count=action.state.run_count,
            data=_data(action.state),
        )
    )
    session.flush()
    return task_run


def list_for_run(
    session: Session, flow_run_id: uuid.UUID, limit: int, offset: int
) -> list[responses.TaskRun]:
    query = (
        select(orm.TaskRun)
        .where(orm.TaskRun.flow_run_id == flow_run_id)
        .order_by(orm.TaskRun.created, orm.TaskRun.task_slug, orm.TaskRun.map_index)
        .limit(limit)
        .offset(offset)
    )
    return [to_response(t) for t in session.scalars(query)]


def to_response(task_run: orm.TaskRun) -> responses.TaskRun:
    data = dict(task_run.state_data or {})
    state = StateData(
        type=task_run.state_type,
        message=task_run.state_message,
        timestamp=task_run.state_timestamp,
        start_time=task_run.state_start_time,
        run_count=task_run.state_run_count,
        **data,
    )
    return responses.TaskRun(
        id=task_run.id,
        flow_run_id=task_run.flow_run_id,
        task_slug=task_run.task_slug,
        map_index=task_run.map_index,
        state=state,
        version=task_run.version,
        created=task_run.created,
        updated=task_run.updated,
    )


def history(session: Session, task_run_id: uuid.UUID) -> list[responses.StateHistoryItem]:
    read(session, task_run_id)
    query = (
        select(orm.TaskRunState)
        .where(orm.TaskRunState.task_run_id == task_run_id)
        .order_by(orm.TaskRunState.version)
    )
    return [
        responses.StateHistoryItem(version=row.version, state=states.history_item(row))
        for row in session.scalars(query)
    ]
