"""Read-only views for the web UI under ``/ui``: dashboard, flows overview, runs page, a
flow's history grid, run overview, a run's task runs and its logs as text.

They answer what a page needs in one request (the run page polls its overview
every second), and they sit behind the same API-key check as every other route.
"""

from __future__ import annotations

import uuid

from fastapi import Query
from fastapi.responses import PlainTextResponse

from weir.server.api.dependencies import Context, api_router
from weir.server.models import runs_page, ui_data
from weir.state_types import StateType

router = api_router("/ui", "ui")


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


@router.get("/runs")
def runs(
    ctx: Context,
    flow: str | None = Query(None, max_length=200),
    state: list[StateType] = Query([], max_length=20),
    since: float | None = Query(None, ge=0, le=1e11),
    until: float | None = Query(None, ge=0, le=1e11),
    label: list[str] = Query([], max_length=20),
    q: str | None = Query(None, max_length=200),
    before: str | None = Query(None, max_length=100),
    after: str | None = Query(None, max_length=100),
    limit: int = Query(50, ge=1, le=500),
) -> runs_page.RunsPage:
    """Every run, newest first, filtered; a page older than ``before`` or newer than
    ``after`` (the cursors a previous answer gave), read by key however deep."""
    flt = runs_page.RunFilter(
        flow=flow, state=state, since=since, until=until, label=label, q=q or None
    )
    with ctx.db.session() as session:
        return runs_page.runs_page(session, flt, limit, before=before, after=after)


@router.get("/flows/{flow_id}/grid")
def flow_grid(
    flow_id: uuid.UUID, ctx: Context, runs: int = Query(25, ge=1, le=200)
) -> runs_page.FlowGrid:
    """The flow's last ``runs`` runs (all its versions) × its tasks, by state."""
    with ctx.reading() as session:
        return runs_page.flow_grid(session, flow_id, runs)


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


@router.get("/flow_runs/{flow_run_id}/task_runs")
def task_runs(
    flow_run_id: uuid.UUID,
    ctx: Context,
    slug: str | None = Query(None, min_length=1, max_length=500),
    state: list[StateType] = Query([], max_length=20),
    sort: str = Query("name", pattern="^(" + "|".join(ui_data.SORTS) + ")$"),
    desc: bool = False,
    limit: int = Query(200, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> ui_data.TaskRunRows:
    """The run's task runs (with ``slug``: that task's mapped children), by state, sorted."""
    with ctx.reading() as session:
        return ui_data.task_run_rows(
            session,
            flow_run_id,
            slug=slug,
            states=state,
            sort=sort,
            descending=desc,
            limit=limit,
            offset=offset,
        )


@router.get("/flow_runs/{flow_run_id}/logs.txt", response_class=PlainTextResponse)
def logs_text(flow_run_id: uuid.UUID, ctx: Context) -> PlainTextResponse:
    """Every log line of the run as text (UTC times), to download."""
    # Its reading session: a stored batch's refused items become lines of the run.
    with ctx.reading() as session:
        text = "".join(ui_data.log_text(session, flow_run_id))
    name = f"weir-run-{flow_run_id}.log"
    return PlainTextResponse(
        text, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
