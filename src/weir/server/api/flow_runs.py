"""Flow runs: create, read, filter, delete, state, history, heartbeat, cancel, task runs, logs,
trace."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from weir.schemas import actions, filters, responses
from weir.server.api import bodies
from weir.server.api.attempt import Attempt
from weir.server.api.dependencies import AdminOnly, Context, ServerContext, api_router
from weir.server.models import flow_runs, flows, logs, reading, task_runs, traces, writes
from weir.server.services import retention
from weir.state_types import FINISHED_TYPES

_CONFLICT: dict[int | str, dict[str, object]] = {
    409: {"description": "Stale version, forbidden move, or an older attempt (field attempt)"}
}

router = api_router("/flow_runs", "flow runs")


@router.post("", status_code=201, responses={200: {"description": "Found by idempotency key"}})
def create_flow_run(
    action: actions.FlowRunCreate, ctx: Context, response: Response
) -> responses.FlowRun:
    with ctx.db.session(write=True) as session:
        made = flow_runs.create(session, action, ctx.clock())
        out = made.response()
    if not made.created:
        response.status_code = 200
    return out


@router.get("")
def list_flow_runs(
    ctx: Context, flt: Annotated[filters.FlowRunFilter, Query()]
) -> list[responses.FlowRun] | list[responses.FlowRunSummary]:
    """Flow runs as summaries (no parameters or context); with ``full=true`` whole."""
    with ctx.db.session() as session:
        return flow_runs.list_runs(session, flt)


@router.get("/{flow_run_id}", response_model=responses.FlowRunWithFlow | responses.FlowRun)
def read_flow_run(
    flow_run_id: uuid.UUID,
    ctx: Context,
    with_flow: bool = Query(
        False,
        description="true: with its flow version's summary (``flow``), as a run's process "
        "reads it to start",
    ),
) -> Response:
    with ctx.db.session() as session:
        run = flow_runs.response(session, flow_runs.read(session, flow_run_id))
        if with_flow:
            flow = flows.read_summary(session, run.flow_id)
            run = responses.FlowRunWithFlow.model_construct(**run.__dict__, flow=flow)
    # Encoded by its own model, as GET /flows/{id} is: checking it against the union
    # again would cost more than reading it did.
    return Response(run.model_dump_json(), media_type="application/json")


@router.delete("/{flow_run_id}", status_code=204, dependencies=AdminOnly, responses=_CONFLICT)
def delete_flow_run(flow_run_id: uuid.UUID, ctx: Context) -> None:
    """Delete a finished run (or one no agent has claimed) with its task runs, state
    history, logs, trace and labels; a running one is refused (409): cancel it first."""
    reading.write_stored(ctx.db, ctx.clock)  # a stored batch naming the run goes with it
    retention.delete_run(ctx.db, flow_run_id, ctx.settings.retention)


#: Read from the request's bytes (see ``bodies``): a run's last task-run items ride along.
_SET_STATE: TypeAdapter[actions.FlowRunSetState] = TypeAdapter(actions.FlowRunSetState)


@router.post(
    "/{flow_run_id}/state",
    responses=_CONFLICT,
    openapi_extra=bodies.openapi_body(_SET_STATE),
)
async def set_flow_run_state(
    flow_run_id: uuid.UUID, body: bodies.RawBody, ctx: Context, attempt: Attempt = None
) -> responses.StateWritten:
    return await run_in_threadpool(_set_state, ctx, flow_run_id, body, attempt)


def _set_state(
    ctx: ServerContext, flow_run_id: uuid.UUID, body: bytes, attempt: int | None
) -> responses.StateWritten:
    limit = ctx.settings.max_batch_items
    bodies.refuse_many(body, 3 * limit, "The state's task_runs, logs and trace together")
    action: actions.FlowRunSetState = bodies.validate_json(_SET_STATE, body)
    for field in ("task_runs", "logs", "trace"):
        bodies.check_items(getattr(action, field), limit, ("body", field), f"The state's {field}")
    try:
        written = writes.set_flow_run_state(ctx.db, flow_run_id, action, body, ctx.clock, attempt)
    finally:
        if action.task_runs:  # stored, also when the state itself is refused
            ctx.batch_stored.set()
    if written.state.type in FINISHED_TYPES:
        # The run's process sends nothing more: its batches are written now, not after
        # the writer's quiet wait.
        ctx.batch_stored.set_ended()
    return written


@router.get("/{flow_run_id}/states")
def flow_run_states(flow_run_id: uuid.UUID, ctx: Context) -> list[responses.StateHistoryItem]:
    with ctx.db.session() as session:
        return flow_runs.history(session, flow_run_id)


@router.post("/{flow_run_id}/heartbeat", responses=_CONFLICT)
def flow_run_heartbeat(
    flow_run_id: uuid.UUID, ctx: Context, attempt: Attempt = None
) -> responses.Heartbeat:
    with ctx.db.session(write=True) as session:
        cancel = flow_runs.heartbeat(session, flow_run_id, ctx.clock(), attempt)
        return responses.Heartbeat(cancel=cancel)


@router.post("/{flow_run_id}/cancel")
def cancel_flow_run(flow_run_id: uuid.UUID, ctx: Context) -> responses.FlowRun:
    with ctx.db.session(write=True) as session:
        return flow_runs.response(session, flow_runs.cancel(session, flow_run_id, ctx.clock()))


@router.post("/{flow_run_id}/resume", responses=_CONFLICT)
def resume_flow_run(flow_run_id: uuid.UUID, ctx: Context) -> responses.FlowRun:
    """Approve a Paused run's paused tasks (``manual_only``, ``PAUSE``) and schedule it
    now; the agent that claims it runs them, as Prefect 1's Resume does."""
    with ctx.db.session(write=True) as session:
        return flow_runs.response(session, flow_runs.resume(session, flow_run_id, ctx.clock()))


@router.post("/{flow_run_id}/restart")
def restart_flow_run(flow_run_id: uuid.UUID, ctx: Context) -> responses.FlowRun:
    with ctx.db.session(write=True) as session:
        return flow_runs.response(session, flow_runs.restart(session, flow_run_id, ctx.clock()))


@router.get("/{flow_run_id}/task_runs")
def flow_run_task_runs(
    flow_run_id: uuid.UUID,
    ctx: Context,
    limit: int = Query(1000, ge=1, le=10_000),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> list[responses.TaskRun]:
    with ctx.reading() as session:
        flow_runs.read(session, flow_run_id)
        return task_runs.list_for_run(session, flow_run_id, limit, offset)


@router.get("/{flow_run_id}/logs")
def flow_run_logs(
    flow_run_id: uuid.UUID, ctx: Context, flt: Annotated[filters.LogFilter, Query()]
) -> responses.LogPage:
    with ctx.reading() as session:
        return logs.read(session, flow_run_id, flt)


@router.get("/{flow_run_id}/trace")
def flow_run_trace(flow_run_id: uuid.UUID, ctx: Context) -> list[responses.TraceEvent]:
    with ctx.reading() as session:
        flow_runs.read(session, flow_run_id)
        return traces.read(session, flow_run_id)
