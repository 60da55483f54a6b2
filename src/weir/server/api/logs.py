"""Batched writes of logs and trace events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from weir.schemas import actions, responses
from weir.server.api import bodies
from weir.server.api.dependencies import Context, ServerContext, api_router
from weir.server.database.engine import Database
from weir.server.models import writes

router = api_router("", "logs")

# Validated from the request's bytes, in the worker thread (see ``bodies``): a run that
# logs from every task sends as many lines as it has task runs. Their length is checked
# against ``ServerSettings.max_batch_items``.
_LOGS: TypeAdapter[list[actions.LogCreate]] = TypeAdapter(list[actions.LogCreate])
_TRACE: TypeAdapter[list[actions.TraceEventCreate]] = TypeAdapter(list[actions.TraceEventCreate])


@router.post("/logs/batch", status_code=201, openapi_extra=bodies.openapi_body(_LOGS))
async def write_logs(body: bodies.RawBody, ctx: Context) -> responses.Count:
    return await run_in_threadpool(
        _write, ctx, _LOGS, writes.write_log_lines, body, "The log batch"
    )


@router.post("/trace/batch", status_code=201, openapi_extra=bodies.openapi_body(_TRACE))
async def write_trace_events(body: bodies.RawBody, ctx: Context) -> responses.Count:
    return await run_in_threadpool(
        _write, ctx, _TRACE, writes.write_trace_events, body, "The trace batch"
    )


def _write(
    ctx: ServerContext,
    adapter: TypeAdapter[Any],
    write: Callable[[Database, Any], int],
    body: bytes,
    what: str,
) -> responses.Count:
    limit = ctx.settings.max_batch_items
    bodies.refuse_many(body, limit, what)
    items = bodies.validate_json(adapter, body)
    bodies.check_items(items, limit, ("body",), what)
    return responses.Count(count=write(ctx.db, items))
