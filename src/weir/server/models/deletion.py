"""Removing flow runs: which may go, and their rows a bounded chunk at a time.

A flow run's rows live in ``task_run``, ``log``, ``trace_event`` and
``flow_run_state`` (which can hold millions of rows for one big run), and in
``flow_run_label`` and ``concurrency_slot`` (a few each). All reference the run
with ``ON DELETE CASCADE``, so deleting the run row alone would remove the lot,
but in one statement that holds SQLite's only writer for as long as it takes.
So the large tables are emptied first, at most ``limit`` rows per call (one call
per transaction, see ``weir.server.services.retention.purge``), and the run row
goes last, taking the few rows left with it. Every call first re-reads which of
the runs may still go (locking them on PostgreSQL), so that a run restarted
between two chunks keeps what it has left.

Stored task-run batches (``task_run_batch``) name runs without a foreign key:
callers write them out first (``write_stored``); one written after its run went
is refused item by item, as for any run that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from weir.server.database import orm
from weir.server.errors import Conflict
from weir.server.models import flow_runs, forget_runs
from weir.state_types import CLAIMABLE_TYPES, FINISHED_TYPES

#: The tables a run can have many rows in, emptied chunk by chunk before the run goes.
LARGE_TABLES: tuple[Any, ...] = (orm.TaskRun, orm.Log, orm.TraceEvent, orm.FlowRunState)
#: A run in one of these may be deleted; any other is running and must be cancelled first.
DELETABLE_TYPES = FINISHED_TYPES | CLAIMABLE_TYPES
#: A finished run stays finished unless restarted: the condition chunked deletion keeps checking.
FINISHED = orm.FlowRun.state_type.in_(sorted(FINISHED_TYPES))


def still(
    session: Session, run_ids: Sequence[uuid.UUID], where: Sequence[ColumnElement[bool]]
) -> list[uuid.UUID]:
    """Those of the runs that exist and still match ``where``, locked on PostgreSQL."""
    if not run_ids:
        return []
    query = select(orm.FlowRun.id).where(orm.FlowRun.id.in_(run_ids), *where)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return list(session.scalars(query))


def delete_chunk(session: Session, table: Any, run_ids: Sequence[uuid.UUID], limit: int) -> int:
    """Delete up to ``limit`` of the runs' rows in ``table``; return how many went."""
    chunk = select(table.id).where(table.flow_run_id.in_(run_ids)).limit(limit)
    statement = delete(table).where(table.id.in_(chunk))
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_runs(session: Session, run_ids: Sequence[uuid.UUID]) -> int:
    """Delete the run rows (the database cascades to what is left of their rows)."""
    if not run_ids:
        return 0
    statement = delete(orm.FlowRun).where(orm.FlowRun.id.in_(run_ids))
    result = session.execute(statement.execution_options(synchronize_session=False))
    forget_runs(session)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def check_deletable(session: Session, run_id: uuid.UUID) -> orm.FlowRun:
    """The run, locked, if it may be deleted (finished, or waiting for an agent); else 409."""
    run = flow_runs.read(session, run_id, for_update=True)
    if run.state_type not in DELETABLE_TYPES:
        raise Conflict(
            f"Flow run {run.name} ({run.id}) is {run.state_type.value}, so it cannot be "
            f"deleted; cancel it first (`weir flow-run cancel {run.id}`) and delete it once "
            "it has stopped."
        )
    return run
