"""Task runs: the batch upsert the engine reports through, reads and single state writes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import Field, TypeAdapter
from starlette.concurrency import run_in_threadpool

from weir.schemas import actions, jsontext, responses
from weir.server.api import bodies
from weir.server.api.dependencies import Context, ServerContext
from weir.server.models import task_runs

_CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"description": "Stale version or forbidden move"}
}

router = APIRouter(prefix="/task_runs", tags=["task runs"])

MAX_BATCH = 10_000


#: The batch as the engine sends it; validated from the request's bytes (see ``bodies``).
_BATCH: TypeAdapter[list[actions.TaskRunUpsert]] = TypeAdapter(
    Annotated[list[actions.TaskRunUpsert], Field(max_length=MAX_BATCH)]
)


@router.post(
    "/batch",
    response_model=list[responses.TaskRunWritten],
    openapi_extra=bodies.openapi_body(_BATCH),
)
async def upsert_task_runs(body: bodies.RawBody, ctx: Context) -> Response:
    """Write task-run states in order, creating task runs on first sight; one result per item."""
    # In a worker thread: parsing and writing a thousand items takes tens of milliseconds
    # that the event loop would otherwise not serve other requests in.
    outcomes = await run_in_threadpool(_upsert, ctx, body)
    # Encoded as they are: the outcomes are built here in TaskRunWritten's shape, and
    # checking a thousand of them again on the way out would cost more than writing them.
    return Response(jsontext.dumps(outcomes), media_type="application/json")


def _upsert(ctx: ServerContext, body: bytes) -> list[dict[str, object]]:
    items = bodies.validate_json(_BATCH, body)
    with ctx.db.session(write=True) as session:
        return task_runs.upsert(session, items, ctx.clock())


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
