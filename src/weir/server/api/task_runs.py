"""Task runs: the batch upsert the engine reports through, reads and single state writes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Response

from weir.schemas import actions, jsontext, responses
from weir.server.api.dependencies import Context
from weir.server.models import task_runs

_CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"description": "Stale version or forbidden move"}
}

router = APIRouter(prefix="/task_runs", tags=["task runs"])

MAX_BATCH = 10_000


@router.post("/batch", response_model=list[responses.TaskRunWritten])
def upsert_task_runs(
    items: Annotated[list[actions.TaskRunUpsert], Body(max_length=MAX_BATCH)], ctx: Context
) -> Response:
    """Write task-run states in order, creating task runs on first sight; one result per item."""
    with ctx.db.session(write=True) as session:
        outcomes = task_runs.upsert(session, items, ctx.clock(), lock=not ctx.db.is_sqlite)
    # Encoded as they are: the outcomes are built here in TaskRunWritten's shape, and
    # checking a thousand of them again on the way out would cost more than writing them.
    return Response(jsontext.dumps(outcomes), media_type="application/json")


@router.get("/{task_run_id}")
def read_task_run(task_run_id: uuid.UUID, ctx: Context) -> responses.TaskRun:
    with ctx.db.session() as session:
        return task_runs.to_response(task_runs.read(session, task_run_id))


@router.post("/{task_run_id}/state", responses=_CONFLICT)
def set_task_run_state(
    task_run_id: uuid.UUID, action: actions.SetState, ctx: Context
) -> responses.TaskRun:
    with ctx.db.session(write=True) as session:
        return task_runs.to_response(task_runs.set_state(session, task_run_id, action, ctx.clock()))


@router.get("/{task_run_id}/states")
def task_run_states(task_run_id: uuid.UUID, ctx: Context) -> list[responses.StateHistoryItem]:
    with ctx.db.session() as session:
        return task_runs.history(session, task_run_id)
