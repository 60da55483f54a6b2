"""Flows: register (a new version only when changed), read, list, archive, schedule on/off."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from weir.schemas import actions, filters, responses
from weir.server.api.dependencies import AdminOnly, Context, api_router
from weir.server.models import backfill, flows

router = api_router("/flows", "flows")


@router.post("", status_code=201, responses={200: {"description": "Unchanged: no new version"}})
def register_flow(
    action: actions.FlowCreate, ctx: Context, response: Response
) -> responses.FlowRegistered:
    with ctx.db.session(write=True) as session:
        flow, created = flows.register(session, action, ctx.clock())
        if not created:
            response.status_code = 200
        return responses.FlowRegistered(flow=flows.response(session, flow), created=created)


@router.get("")
def list_flows(
    ctx: Context, flt: Annotated[filters.FlowFilter, Query()]
) -> list[responses.Flow] | list[responses.FlowSummary]:
    """Flow versions as summaries (no serialized graph); with ``full=true`` whole."""
    with ctx.db.session() as session:
        return flows.list_flows(session, flt)


@router.get("/{flow_id}", response_model=responses.Flow | responses.FlowSummary)
def read_flow(
    flow_id: uuid.UUID,
    ctx: Context,
    full: bool = Query(
        True,
        description="false: a summary, without the serialized graph (what a run's process "
        "needs to load the flow from its storage)",
    ),
) -> Response:
    with ctx.db.session() as session:
        found = (
            flows.read_summary(session, flow_id)
            if not full
            else flows.response(session, flows.read(session, flow_id))
        )
    # Encoded by its own model: checked against the union, a big flow's graph was
    # walked three times over (3 ms for a 1,000-task flow, against 1 ms).
    return Response(found.model_dump_json(), media_type="application/json")


@router.patch("/{flow_id}")
def update_flow(flow_id: uuid.UUID, action: actions.FlowUpdate, ctx: Context) -> responses.Flow:
    with ctx.db.session(write=True) as session:
        return flows.response(session, flows.update_flow(session, flow_id, action))


@router.post("/{flow_id}/backfill")
def backfill_flow(
    flow_id: uuid.UUID, action: actions.FlowBackfill, ctx: Context
) -> responses.Backfilled:
    """Make the runs the flow's schedule has in the window (idempotent, as the scheduler)."""
    with ctx.db.session(write=True) as session:
        made, found = backfill.backfill(session, flow_id, action.start, action.end, ctx.clock())
    return responses.Backfilled(created=made, existing=found)


@router.delete("/{flow_id}", dependencies=AdminOnly)
def archive_flow(flow_id: uuid.UUID, ctx: Context) -> responses.FlowSummary:
    """Archive the flow version: it is no longer scheduled and the scheduler's runs of it
    that have not started are deleted; its past runs stay until retention removes them."""
    with ctx.db.session(write=True) as session:
        return flows.summary_response(session, flows.archive(session, flow_id))
