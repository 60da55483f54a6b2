"""Batched writes of logs and trace events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from weir.schemas import actions, responses
from weir.server.api.dependencies import Context
from weir.server.models import logs, traces

router = APIRouter(tags=["logs"])

MAX_BATCH = 10_000


@router.post("/logs/batch", status_code=201)
def write_logs(
    items: Annotated[list[actions.LogCreate], Body(max_length=MAX_BATCH)], ctx: Context
) -> responses.Count:
    with ctx.db.session(write=True) as session:
        return responses.Count(count=logs.write(session, items))


@router.post("/trace/batch", status_code=201)
def write_trace_events(
    items: Annotated[list[actions.TraceEventCreate], Body(max_length=MAX_BATCH)], ctx: Context
) -> responses.Count:
    with ctx.db.session(write=True) as session:
        return responses.Count(count=traces.write(session, items))
