"""What routes share: the server context (database, clock, work signal) and auth."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from weir.schemas.actions import Role
from weir.server.database.engine import Database
from weir.server.models import api_keys
from weir.server.settings import ServerSettings
from weir.server.signals import WorkSignal


@dataclass
class ServerContext:
    """Everything a request needs beyond its own input; one per app."""

    db: Database
    settings: ServerSettings
    clock: Callable[[], float]
    work: WorkSignal = field(default_factory=WorkSignal)
    #: Set when a task-run batch was stored to be written later (see services.batch_writer).
    batch_stored: threading.Event = field(default_factory=threading.Event)


# The dependencies are coroutines although they do not wait on anything (but the key
# lookup, sent to a thread): FastAPI runs a plain function dependency in its thread
# pool, a hop that costs more than most endpoints themselves.
async def get_context(request: Request) -> ServerContext:
    return request.app.state.weir  # type: ignore[no-any-return]


Context = Annotated[ServerContext, Depends(get_context)]

_bearer = HTTPBearer(auto_error=False, description="An API key: `weir server api-key create`.")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITERS = frozenset({Role.ADMIN, Role.AGENT})


def _role(ctx: ServerContext, credentials: HTTPAuthorizationCredentials | None) -> Role:
    if credentials is None or not credentials.credentials:
        raise HTTPException(
            status_code=401,
            detail="This server needs an API key: send it as `Authorization: Bearer <key>` "
            "(WEIR_API_KEY or --api-key); create one with `weir server api-key create`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with ctx.db.session() as session:
        role = api_keys.verify(session, credentials.credentials)
    if role is None:
        raise HTTPException(
            status_code=401,
            detail="The API key is unknown or was revoked; ask an admin for a valid key.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return role


async def _caller_role(
    ctx: ServerContext, credentials: HTTPAuthorizationCredentials | None
) -> Role | None:
    """The role of the request's key (401 without a valid one); None when auth is off."""
    if not ctx.settings.auth:
        return None
    return await run_in_threadpool(_role, ctx, credentials)


async def authorize(
    request: Request,
    ctx: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    """Reads need any valid key; writes need an agent or admin key (when auth is on)."""
    role = await _caller_role(ctx, credentials)
    if role is not None and request.method not in _READ_METHODS and role not in _WRITERS:
        raise HTTPException(
            status_code=403,
            detail=f"An API key with role {role.value} may only read; "
            "this request writes, so use an agent or admin key.",
        )


def admin_only(what: str) -> Callable[..., Awaitable[None]]:
    """A dependency letting only admin keys through (when auth is on); ``what`` names the
    guarded action in the refusal, e.g. "Deleting a flow run"."""

    async def authorize_admin(
        ctx: Context,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> None:
        role = await _caller_role(ctx, credentials)
        if role is not None and role is not Role.ADMIN:
            raise HTTPException(
                status_code=403,
                detail=f"{what} needs an admin key; this one has role {role.value}.",
            )

    return authorize_admin


#: Managing API keys is for admins only.
authorize_admin = admin_only("Managing API keys")
#: Deleting runs drops their history, archiving drops scheduled runs: admins only.
AdminOnly = [Depends(admin_only("Deleting flow runs and archiving flows"))]
