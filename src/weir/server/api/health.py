"""GET /health: is the server up and its database reachable (no key needed)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy import text

from weir.schemas import responses
from weir.server.api.dependencies import Context, api_router

router = api_router("", "health", guard=None)


@cache  # reading the installed metadata takes milliseconds
def _version() -> str:
    try:
        return version("weir")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health")
def health(ctx: Context) -> responses.Health:
    with ctx.db.session() as session:
        session.execute(text("SELECT 1"))
    return responses.Health(
        status="ok",
        database=ctx.db.dialect,
        version=_version(),
        services=ctx.services(),
        retention=ctx.settings.retention.retention,
    )
