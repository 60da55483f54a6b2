"""Concurrency limits on task tags, and the slots task runs take and give back."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from weir.schemas import actions, responses
from weir.server.api.dependencies import Context, api_router
from weir.server.models import concurrency

router = api_router("/concurrency_limits", "concurrency limits")

TagPath = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("")
def list_limits(ctx: Context) -> list[responses.ConcurrencyLimit]:
    with ctx.db.session() as session:
        return concurrency.list_all(session)


@router.post("/acquire")
def acquire_slots(action: actions.SlotAcquire, ctx: Context) -> responses.SlotsGranted:
    """Grant the task run a slot of each of its limited tags, all or none (idempotent per key)."""
    with ctx.db.session(write=True) as session:
        return concurrency.acquire(
            session,
            action.tags,
            action.task_run_key,
            action.flow_run_id,
            ctx.clock(),
            lock=not ctx.db.is_sqlite,
        )


@router.post("/release")
def release_slots(action: actions.SlotRelease, ctx: Context) -> responses.Count:
    with ctx.db.session(write=True) as session:
        return responses.Count(count=concurrency.release(session, action.task_run_key))


@router.get("/{tag:path}")
def read_limit(tag: TagPath, ctx: Context) -> responses.ConcurrencyLimit:
    with ctx.db.session() as session:
        return concurrency.response(session, concurrency.read(session, tag))


@router.put("/{tag:path}")
def set_limit(
    tag: TagPath, action: actions.ConcurrencyLimitSet, ctx: Context
) -> responses.ConcurrencyLimit:
    with ctx.db.session(write=True) as session:
        return concurrency.response(session, concurrency.set_limit(session, tag, action.limit))


@router.delete("/{tag:path}")
def remove_limit(tag: TagPath, ctx: Context) -> responses.ConcurrencyLimit:
    with ctx.db.session(write=True) as session:
        return concurrency.remove(session, tag)
