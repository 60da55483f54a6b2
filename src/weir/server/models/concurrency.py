"""Concurrency limits on task tags: at most N task runs with a tag run at once, everywhere.

Data model: one ``concurrency_limit`` row per limited tag, and one
``concurrency_slot`` row per (task-run key, limited tag) a task run holds.

Invariants:

- A slot counts only while its flow run is active (Submitted, Running,
  Cancelling, Looped). When the run finishes, or goes back to waiting (lazarus
  or an agent handed it back), its slots stop counting at once and their rows
  are deleted by the next acquire of that tag: nothing has to remember to
  release them, and a dead process can never leak a slot.
- Acquiring is all or nothing over the task's limited tags, and idempotent per
  task-run key: a task run that asks again (say after its process restarted)
  keeps its slots and takes no more.
- Concurrent acquirers never exceed a limit: on PostgreSQL the limit rows are
  locked (``FOR UPDATE``, in tag order so two acquirers cannot deadlock) while
  slots are counted and taken; on SQLite the single writer does the same job.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from weir.schemas import responses
from weir.server.database import orm
from weir.server.errors import NotFound
from weir.server.models import flow_runs
from weir.state_types import ACTIVE_TYPES


def _holding_runs() -> Select[tuple[uuid.UUID]]:
    # A run held by a process (claimed, running, looping) counts against its tags' limits.
    return select(orm.FlowRun.id).where(orm.FlowRun.state_type.in_(ACTIVE_TYPES))


def set_limit(session: Session, tag: str, limit: int) -> orm.ConcurrencyLimit:
    """Create or change the limit of ``tag``; slots already held are kept."""
    row = session.scalar(select(orm.ConcurrencyLimit).where(orm.ConcurrencyLimit.tag == tag))
    if row is None:
        row = orm.ConcurrencyLimit(tag=tag, limit=limit)
        session.add(row)
    else:
        row.limit = limit
    session.flush()
    return row


def read(session: Session, tag: str) -> orm.ConcurrencyLimit:
    row = session.scalar(select(orm.ConcurrencyLimit).where(orm.ConcurrencyLimit.tag == tag))
    if row is None:
        raise NotFound(
            f"There is no concurrency limit on tag {tag!r}; set one with "
            f"`weir concurrency-limit set {tag} N`."
        )
    return row


def remove(session: Session, tag: str) -> responses.ConcurrencyLimit:
    """Delete the limit of ``tag`` and its slots; return it as it was."""
    row = read(session, tag)
    out = response(session, row)
    session.execute(delete(orm.ConcurrencySlot).where(orm.ConcurrencySlot.tag == tag))
    session.delete(row)
    return out


def active_counts(session: Session, tags: Iterable[str]) -> dict[str, int]:
    """How many slots of each tag are held by active flow runs."""
    slot = orm.ConcurrencySlot
    query = (
        select(slot.tag, func.count())
        .where(slot.tag.in_(list(tags)), slot.flow_run_id.in_(_holding_runs()))
        .group_by(slot.tag)
    )
    return {tag: int(n) for tag, n in session.execute(query)}


def response(session: Session, row: orm.ConcurrencyLimit) -> responses.ConcurrencyLimit:
    return _response(row, active_counts(session, [row.tag]).get(row.tag, 0))


def _response(row: orm.ConcurrencyLimit, active: int) -> responses.ConcurrencyLimit:
    return responses.ConcurrencyLimit(
        tag=row.tag, limit=row.limit, active_slots=active, created=row.created, updated=row.updated
    )


def list_all(session: Session) -> list[responses.ConcurrencyLimit]:
    rows = list(session.scalars(select(orm.ConcurrencyLimit).order_by(orm.ConcurrencyLimit.tag)))
    counts = active_counts(session, [r.tag for r in rows])
    return [_response(r, counts.get(r.tag, 0)) for r in rows]


def acquire(
    session: Session,
    tags: Iterable[str],
    task_run_key: str,
    flow_run_id: uuid.UUID,
    now: float,
    *,
    lock: bool = False,
) -> responses.SlotsGranted:
    """Take a slot of every limited tag for the task run, or none if any tag is full.

    ``lock`` (PostgreSQL) locks the limit rows so that concurrent acquirers queue.
    """
    flow_runs.read(session, flow_run_id)
    query = (
        select(orm.ConcurrencyLimit)
        .where(orm.ConcurrencyLimit.tag.in_(sorted(set(tags))))
        .order_by(orm.ConcurrencyLimit.tag)
    )
    if lock:
        query = query.with_for_update()
    limits = list(session.scalars(query))
    if not limits:
        return responses.SlotsGranted(granted=True)
    slot = orm.ConcurrencySlot
    held = set(session.scalars(select(slot.tag).where(slot.task_run_key == task_run_key)))
    wanted = [row for row in limits if row.tag not in held]
    if not wanted:
        return responses.SlotsGranted(granted=True)
    _drop_stale(session, [row.tag for row in wanted])
    counts = active_counts(session, [row.tag for row in wanted])
    blocked = [row.tag for row in wanted if counts.get(row.tag, 0) >= row.limit]
    if blocked:
        return responses.SlotsGranted(granted=False, blocked=blocked)
    session.add_all(
        slot(task_run_key=task_run_key, tag=row.tag, flow_run_id=flow_run_id, acquired=now)
        for row in wanted
    )
    session.flush()
    return responses.SlotsGranted(granted=True)


def _drop_stale(session: Session, tags: list[str]) -> None:
    """Delete the slots of ``tags`` whose flow run is no longer active."""
    slot = orm.ConcurrencySlot
    session.execute(
        delete(slot)
        .where(slot.tag.in_(tags), slot.flow_run_id.not_in(_holding_runs()))
        .execution_options(synchronize_session=False)
    )


def release(session: Session, task_run_key: str) -> int:
    """Give back every slot the task run holds; how many there were."""
    slot = orm.ConcurrencySlot
    result = session.execute(
        delete(slot)
        .where(slot.task_run_key == task_run_key)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
