"""Batched writes of logs and trace events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from pydantic import TypeAdapter
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from weir.schemas import actions, responses
from weir.server.api import bodies
from weir.server.api.dependencies import Context, ServerContext
from weir.server.models import bulk, logs, traces

router = APIRouter(tags=["logs"])

# Validated from the request's bytes, in the worker thread (see ``bodies``): a run that
# logs from every task sends as many lines as it has task runs. Their length is checked
# against ``ServerSettings.max_batch_items``.
_LOGS: TypeAdapter[list[actions.LogCreate]] = TypeAdapter(list[actions.LogCreate])
_TRACE: TypeAdapter[list[actions.TraceEventCreate]] = TypeAdapter(list[actions.TraceEventCreate])


@router.post("/logs/batch", status_code=201, openapi_extra=bodies.openapi_body(_LOGS))
async def write_logs(body: bodies.RawBody, ctx: Context) -> responses.Count:
    return await run_in_threadpool(_write, ctx, _LOGS, logs.write, body, "The log batch")


@router.post("/trace/batch", status_code=201, openapi_extra=bodies.openapi_body(_TRACE))
async def write_trace_events(body: bodies.RawBody, ctx: Context) -> responses.Count:
    return await run_in_threadpool(_write, ctx, _TRACE, traces.write, body, "The trace batch")


def _write(
    ctx: ServerContext,
    adapter: TypeAdapter[Any],
    write: Callable[[Session, Any], int],
    body: bytes,
    what: str,
) -> responses.Count:
    limit = ctx.settings.max_batch_items
    bodies.refuse_many(body, limit, what)
    items = bodies.validate_json(adapter, body)
    bodies.check_items(items, limit, ("body",), what)
    try:
        with ctx.db.session(write=True) as session:
            return responses.Count(count=write(session, items))
    except DataError:
        pass
    # A value the database cannot store: the others are stored, those items refused.
    with ctx.db.session(write=True) as session:
        written, refused = bulk.write_each(session, items, write)
    if refused:
        raise bulk.refusal(refused, written)
    return responses.Count(count=written)
