"""Task runs: the batch upsert the engine reports through, reads and single state writes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from weir.schemas import actions, jsontext, responses
from weir.server.api import bodies
from weir.server.api.attempt import Attempt
from weir.server.api.dependencies import Context, ServerContext
from weir.server.models import attempts, task_run_batches, task_runs
from weir.server.services.batch_writer import write_stored
from weir.server.settings import MAX_BATCH_ITEMS

_CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"description": "Stale version, forbidden move, or an older attempt (field attempt)"}
}

router = APIRouter(prefix="/task_runs", tags=["task runs"])

#: The most items a batch may hold unless the server is told otherwise.
MAX_BATCH = MAX_BATCH_ITEMS

#: The batch as the engine sends it; validated from the request's bytes (see ``bodies``),
#: its length checked against ``ServerSettings.max_batch_items``.
_BATCH: TypeAdapter[list[actions.TaskRunUpsert]] = TypeAdapter(list[actions.TaskRunUpsert])


@router.post(
    "/batch",
    response_model=list[responses.TaskRunWritten],
    responses={
        202: {"description": "Stored, to be written before any read (wait=false)"},
        409: {"description": "Sent by an older attempt of a flow run it names"},
    },
    openapi_extra=bodies.openapi_body(_BATCH),
)
async def upsert_task_runs(
    body: bodies.RawBody,
    ctx: Context,
    wait: bool = Query(
        True,
        description="false: answer 202 (and no outcomes) once the batch is validated and "
        "stored; its task runs are written before anything reads them, and a refused "
        "item is logged on its flow run.",
    ),
    attempt: Attempt = None,
) -> Response:
    """Write task-run states in order, creating task runs on first sight; one result per item."""
    # In a worker thread: parsing and writing a thousand items takes tens of milliseconds
    # that the event loop would otherwise not serve other requests in.
    if not wait:
        await run_in_threadpool(_store, ctx, body, attempt)
        ctx.batch_stored.set()
        return Response(b"[]", status_code=202, media_type="application/json")
    outcomes = await run_in_threadpool(_upsert, ctx, body, attempt)
    # Encoded as they are: the outcomes are built here in TaskRunWritten's shape, and
    # checking a thousand of them again on the way out would cost more than writing them.
    return Response(jsontext.dumps(outcomes), media_type="application/json")


def _items(ctx: ServerContext, body: bytes) -> list[actions.TaskRunUpsert]:
    limit = ctx.settings.max_batch_items
    bodies.refuse_many(body, limit, "The task-run batch")
    items: list[actions.TaskRunUpsert] = bodies.validate_json(_BATCH, body)
    bodies.check_items(items, limit, ("body",), "The task-run batch")
    return items


def _store(ctx: ServerContext, body: bytes, attempt: int | None) -> None:
    items = _items(ctx, body)
    with ctx.db.session(write=True) as session:
        # At the door: a stored batch is written later, when its attempt may be over.
        attempts.check_runs(session, {i.flow_run_id for i in items}, attempt)
        task_run_batches.store(session, items, ctx.clock(), body)


def _upsert(ctx: ServerContext, body: bytes, attempt: int | None) -> list[dict[str, object]]:
    items = _items(ctx, body)
    try:
        return _upsert_with(ctx, items, task_runs.upsert, attempt)
    except DataError:
        # A value the database cannot store: again item by item, refusing that item.
        return _upsert_with(ctx, items, task_runs.upsert_each, attempt)


def _upsert_with(
    ctx: ServerContext,
    items: list[actions.TaskRunUpsert],
    upsert: Callable[[Session, list[actions.TaskRunUpsert], float], list[dict[str, Any]]],
    attempt: int | None,
) -> list[dict[str, Any]]:
    with ctx.db.session(write=True) as session:
        attempts.check_runs(session, {i.flow_run_id for i in items}, attempt)
        # Batches stored before this one are older: theirs go first.
        now = ctx.clock()
        task_run_batches.write(session, now)
        return upsert(session, items, now)


@router.get("/{task_run_id}")
def read_task_run(task_run_id: uuid.UUID, ctx: Context) -> responses.TaskRun:
    write_stored(ctx.db, ctx.clock)
    with ctx.db.session() as session:
        return task_runs.to_response(task_runs.read(session, task_run_id))


@router.post("/{task_run_id}/state", responses=_CONFLICT)
def set_task_run_state(
    task_run_id: uuid.UUID, action: actions.SetState, ctx: Context, attempt: Attempt = None
) -> responses.TaskRun:
    with ctx.db.session(write=True) as session:
        task_run_batches.write(session, ctx.clock())
        if attempt is not None:
            run_id = task_runs.read(session, task_run_id).flow_run_id
            attempts.check_runs(session, [run_id], attempt)
        return task_runs.to_response(task_runs.set_state(session, task_run_id, action, ctx.clock()))


@router.get("/{task_run_id}/states")
def task_run_states(task_run_id: uuid.UUID, ctx: Context) -> list[responses.StateHistoryItem]:
    write_stored(ctx.db, ctx.clock)
    with ctx.db.session() as session:
        return task_runs.history(session, task_run_id)
