"""Read-only views for the web UI under ``/ui``: dashboard, flows overview, run overview.

They answer what a page needs in one request (the run page polls its overview
every second), and they sit behind the same API-key check as every other route.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from weir.server.api.dependencies import Context
from weir.server.models import ui_data

router = APIRouter(prefix="/ui", tags=["ui"])


@router.get("/dashboard")
def dashboard(
    ctx: Context,
    hours: float = Query(24.0, gt=0, le=24 * 90),
    buckets: int = Query(24, ge=1, le=500),
) -> ui_data.Dashboard:
    """Runs by state per bucket over the last ``hours``; late, failed, upcoming runs; agents."""
    with ctx.db.session() as session:
        return ui_data.dashboard(session, ctx.clock(), hours, buckets)


@router.get("/flows")
def flows_overview(
    ctx: Context,
    limit: int = Query(200, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> list[ui_data.FlowOverview]:
    """Current flow versions with version counts, next scheduled runs and last run."""
    with ctx.db.session() as session:
        return ui_data.flows_overview(session, ctx.clock(), limit, offset)


@router.get("/flow_runs/{flow_run_id}")
def run_overview(
    flow_run_id: uuid.UUID,
    ctx: Context,
    include_flow: bool = False,
    changed_after: float | None = Query(None, ge=0, le=1e11),
) -> ui_data.RunOverview:
    """The run, one summary per task (mapped children as counts by state), its lifecycle;
    with ``include_flow`` also its flow version; with ``changed_after`` (the last
    answer's ``as_of``) only the tasks written since."""
    with ctx.reading() as session:
        return ui_data.run_overview(
            session,
            flow_run_id,
            ctx.clock(),
            include_flow=include_flow,
            changed_after=changed_after,
        )


@router.get("/flow_runs/{flow_run_id}/task")
def task_detail(
    flow_run_id: uuid.UUID,
    ctx: Context,
    slug: str = Query(min_length=1, max_length=500),
    limit: int = Query(50, ge=1, le=1000),
) -> ui_data.TaskDetail:
    """One task of the run: its summary and up to ``limit`` mapped children, those that
    failed or have not finished first."""
    with ctx.reading() as session:
        return ui_data.task_detail(session, flow_run_id, slug, limit)
