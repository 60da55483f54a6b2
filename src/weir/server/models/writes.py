"""The server's writes of what runs report, one function per use case, each owning its
transactions: task-run batches (waited for or stored), a task run's state, a flow
run's state with the reports it carries, log lines, trace events.

Routes parse a request, call one of these, and answer with what it returns. The
rest of the model layer runs inside a caller's transaction; these are the
callers: they open, commit (or roll back) every transaction a write needs, in
the order its guarantees depend on:

- a write from an older attempt of a run it names is refused (409, field
  ``attempt``) before anything of it is written (see ``attempts``);
- task-run batches stored to be written later go before any write that touches
  the same task runs (they are older; see ``task_run_batches``);
- a value the database cannot store (a DataError) refuses that item, not the
  whole write: the write is done again item by item.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from weir.schemas import actions, responses
from weir.server.database.engine import Database
from weir.server.models import (
    attempts,
    bulk,
    flow_runs,
    logs,
    reports,
    run_ids_of,
    states,
    task_run_batches,
    task_runs,
    traces,
)

Clock = Callable[[], float]
_Upsert = Callable[[Session, list[actions.TaskRunUpsert], float], list[dict[str, Any]]]


def write_task_run_batch(
    db: Database, items: list[actions.TaskRunUpsert], clock: Clock, attempt: int | None
) -> list[dict[str, Any]]:
    """Write a batch's task-run states in order, now; one outcome per item
    (``responses.TaskRunWritten``'s fields)."""
    try:
        return _write_batch(db, items, task_runs.upsert, clock, attempt)
    except DataError:
        # A value the database cannot store: again item by item, refusing that item.
        return _write_batch(db, items, task_runs.upsert_each, clock, attempt)


def _write_batch(
    db: Database,
    items: list[actions.TaskRunUpsert],
    upsert: _Upsert,
    clock: Clock,
    attempt: int | None,
) -> list[dict[str, Any]]:
    with db.session(write=True) as session:
        attempts.check_runs(session, run_ids_of(items), attempt)
        # Batches stored before this one are older: theirs go first.
        now = clock()
        task_run_batches.write(session, now)
        return upsert(session, items, now)


def store_task_run_batch(
    db: Database,
    items: list[actions.TaskRunUpsert],
    body: bytes,
    clock: Clock,
    attempt: int | None,
) -> None:
    """Keep a validated batch (``body``, its request) to be written before any read."""
    with db.session(write=True) as session:
        # At the door: a stored batch is written later, when its attempt may be over.
        attempts.check_runs(session, run_ids_of(items), attempt)
        task_run_batches.store(session, items, clock(), body)


def set_task_run_state(
    db: Database,
    task_run_id: uuid.UUID,
    action: actions.SetState,
    clock: Clock,
    attempt: int | None,
) -> responses.TaskRun:
    """Move one task run to a new state (version checked), after the stored batches."""
    with db.session(write=True) as session:
        task_run_batches.write(session, clock())
        if attempt is not None:
            run_id = task_runs.read(session, task_run_id).flow_run_id
            attempts.check_runs(session, [run_id], attempt)
        return task_runs.to_response(task_runs.set_state(session, task_run_id, action, clock()))


def set_flow_run_state(
    db: Database,
    flow_run_id: uuid.UUID,
    action: actions.FlowRunSetState,
    body: bytes,
    clock: Clock,
    attempt: int | None,
) -> responses.StateWritten:
    """Store the task runs, log lines and trace events ``action`` carries, then move the
    run to its new state (``body``: the request, kept for its task runs).

    The reports go first, in their own transaction: they are kept even if the state
    is refused, but not when the whole write comes from an older attempt (nothing
    of it is). The task runs are stored to be written later, as a batch sent with
    ``wait=false`` is.
    """
    if action.task_runs or action.logs or action.trace:
        named = {flow_run_id, *run_ids_of(action.task_runs or ())}
        try:
            with db.session(write=True) as session:
                attempts.check_runs(session, named, attempt)
                reports.store(session, action, clock(), body, each=False)
        except DataError:
            # A value the database cannot store: what it can store is, the rest dropped.
            with db.session(write=True) as session:
                reports.store(session, action, clock(), body, each=True)
    with db.session(write=True) as session:
        run = flow_runs.set_state(session, flow_run_id, action, clock(), attempt=attempt)
        return responses.StateWritten(
            id=run.id, version=run.version, state=states.current_state(run)
        )


def write_log_lines(db: Database, items: list[actions.LogCreate]) -> int:
    """Store a batch of log lines; how many were new (a line sent again is skipped)."""
    return _write_each_if_refused(db, items, logs.write)


def write_trace_events(db: Database, items: list[actions.TraceEventCreate]) -> int:
    """Store a batch of trace events; how many were new (an event sent again is skipped)."""
    return _write_each_if_refused(db, items, traces.write)


def _write_each_if_refused(
    db: Database, items: list[Any], write: Callable[[Session, list[Any]], int]
) -> int:
    try:
        with db.session(write=True) as session:
            return write(session, items)
    except DataError:
        pass
    # A value the database cannot store: the others are stored, those items refused.
    with db.session(write=True) as session:
        written, refused = bulk.write_each(session, items, write)
    if refused:
        raise bulk.refusal(refused, written)
    return written
