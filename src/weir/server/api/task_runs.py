"""Task runs: the batch upsert the engine reports through, reads and single state writes."""

from __future__ import annotations

import uuid

from fastapi import Query, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from weir.schemas import actions, jsontext, responses
from weir.server.api import bodies
from weir.server.api.attempt import Attempt
from weir.server.api.dependencies import Context, ServerContext, api_router
from weir.server.models import task_runs, writes
from weir.server.settings import MAX_BATCH_ITEMS

_CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"description": "Stale version, forbidden move, or an older attempt (field attempt)"}
}

router = api_router("/task_runs", "task runs")

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
    writes.store_task_run_batch(ctx.db, _items(ctx, body), body, ctx.clock, attempt)


def _upsert(ctx: ServerContext, body: bytes, attempt: int | None) -> list[dict[str, object]]:
    return writes.write_task_run_batch(ctx.db, _items(ctx, body), ctx.clock, attempt)


@router.get("/{task_run_id}")
def read_task_run(task_run_id: uuid.UUID, ctx: Context) -> responses.TaskRun:
    with ctx.reading() as session:
        return task_runs.to_response(task_runs.read(session, task_run_id))


@router.post("/{task_run_id}/state", responses=_CONFLICT)
def set_task_run_state(
    task_run_id: uuid.UUID, action: actions.SetState, ctx: Context, attempt: Attempt = None
) -> responses.TaskRun:
    return writes.set_task_run_state(ctx.db, task_run_id, action, ctx.clock, attempt)


@router.get("/{task_run_id}/states")
def task_run_states(task_run_id: uuid.UUID, ctx: Context) -> list[responses.StateHistoryItem]:
    with ctx.reading() as session:
        return task_runs.history(session, task_run_id)
