"""POST /work/claim: an agent's long poll for due runs; POST /work/runs: its look at many."""

from __future__ import annotations

import logging
import time

from starlette.concurrency import run_in_threadpool

from weir.schemas import actions, responses
from weir.server.api.dependencies import Context, ServerContext, api_router
from weir.server.errors import NotFound, Unprocessable
from weir.server.models import flow_runs, work, writes

logger = logging.getLogger(__name__)

router = api_router("/work", "work")


def _record_trace(ctx: ServerContext, events: list[actions.TraceEventCreate]) -> None:
    """Store trace events an agent's request carries, as ``POST /trace/batch`` would.

    The trace is for people: events it cannot store (a run deleted meanwhile, a value
    the database refuses) are logged here and the request goes on without them.
    """
    if not events:
        return
    try:
        writes.write_trace_events(ctx.db, events)
    except (NotFound, Unprocessable) as exc:
        logger.warning("%d trace event(s) of an agent were not stored: %s", len(events), exc)


def _claim_once(
    ctx: ServerContext, action: actions.Claim, first: bool
) -> tuple[list[responses.FlowRun], float | None]:
    """The runs claimed, or none and when the next run the labels allow falls due.

    The request's ``first`` look stores the claim's trace events first, and checks
    the agent is known (later looks need not: ``claim`` reads it).
    """
    if first:
        _record_trace(ctx, action.trace)
    now = ctx.clock()
    if ctx.db.is_sqlite:
        # Look before taking the single writer lock, so idle pollers never hold it.
        with ctx.db.session() as session:
            if first:
                work.check_agent(session, action.agent_id)
            start = work.first_start(session, action.labels)
            if start is None or start > now:
                return [], start
    with ctx.db.session(write=True) as session:
        runs = work.claim(
            session,
            action.labels,
            action.limit,
            now,
            agent_id=action.agent_id,
            skip_locked=not ctx.db.is_sqlite,
        )
        if not runs:
            return [], work.next_due(session, action.labels, now)
        return [flow_runs.response(session, r) for r in runs], None


def _look_again_in(ctx: ServerContext, next_due: float | None, remaining: float) -> float:
    """How long a claim with nothing to take waits before it looks again, unless woken.

    Every transaction of this process that makes a run claimable wakes it
    (``Database.on_new_work``). When this server holds an SQLite database and runs its
    services (the scheduler and lazarus), no other process writes runs, so it sleeps
    until the next run falls due, looking again every ``_SAFETY_LOOK`` seconds all the
    same. Otherwise (PostgreSQL, where other servers write; services run apart) it
    looks every ``claim_poll_seconds``.
    """
    sees_every_write = ctx.db.is_sqlite and ctx.services() == "leader"
    wait = min(remaining, _SAFETY_LOOK if sees_every_write else ctx.settings.claim_poll_seconds)
    if next_due is not None:
        wait = min(wait, max(next_due - ctx.clock(), _SOON))
    return wait


#: The shortest wait for a run about to fall due (its start time a hair away).
_SOON = 0.005
#: How often a claim looks again on a server that sees every write: a write it was not
#: told of (none is known) costs this much delay, not the claim's whole wait.
_SAFETY_LOOK = 5.0


@router.post("/claim")
async def claim_work(action: actions.Claim, ctx: Context) -> list[responses.FlowRun]:
    """Due runs the agent's labels allow, moved to Submitted; waits up to ``wait`` seconds.

    The trace events the claim carries are stored first, whatever it finds."""
    deadline = time.monotonic() + min(action.wait, ctx.settings.max_claim_wait)
    first = True
    while True:
        generation = ctx.work.generation
        runs, next_due = await run_in_threadpool(_claim_once, ctx, action, first)
        first = False
        remaining = deadline - time.monotonic()
        if runs or remaining <= 0:
            return runs
        await ctx.work.wait(generation, _look_again_in(ctx, next_due, remaining))


def _read_runs(ctx: ServerContext, action: actions.ClaimedRuns) -> list[responses.FlowRun]:
    _record_trace(ctx, action.trace)
    with ctx.db.session() as session:
        return [
            flow_runs.response(session, r) for r in work.read_runs(session, action.flow_run_ids)
        ]


@router.post("/runs")
async def read_runs(action: actions.ClaimedRuns, ctx: Context) -> list[responses.FlowRun]:
    """The runs of these ids that exist, in one answer: an agent reads the runs whose
    processes ended in one pass this way, not one request each, after storing the
    trace events the request carries (those processes' ``process_exited``)."""
    return await run_in_threadpool(_read_runs, ctx, action)
