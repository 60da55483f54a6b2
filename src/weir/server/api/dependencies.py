"""What routes share: the server context (database, clock, work signal) and auth."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.base import SecurityBase
from sqlalchemy.orm import Session

from weir.schemas.actions import Role
from weir.server.api.routes import OneHopRoute
from weir.server.database.engine import Database
from weir.server.models import api_keys, reading
from weir.server.services.batch_writer import StoredSignal
from weir.server.settings import ServerSettings
from weir.server.signals import WorkSignal


@dataclass
class ServerContext:
    """Everything a request needs beyond its own input; one per app."""

    db: Database
    settings: ServerSettings
    clock: Callable[[], float]
    work: WorkSignal = field(default_factory=WorkSignal)
    #: Set when a task-run batch was stored to be written later, ``set_ended()`` when a
    #: flow run ended (see services.batch_writer).
    batch_stored: StoredSignal = field(default_factory=StoredSignal)
    #: Whether this process runs the services now (see services.leadership): "leader",
    #: "follower", or "off" for a server started without them.
    services: Callable[[], str] = lambda: "off"

    def reading(self) -> AbstractContextManager[Session]:
        """The read transaction of a route reading task runs, their logs or trace: it sees
        every batch the server has answered for (see ``weir.server.models.reading``)."""
        return reading.session(self.db, self.clock)


# The dependencies are coroutines although they do not wait on anything (but the key
# lookup, sent to a thread): FastAPI runs a plain function dependency in its thread
# pool, a hop that costs more than most endpoints themselves.
async def get_context(request: Request) -> ServerContext:
    return request.app.state.weir  # type: ignore[no-any-return]


Context = Annotated[ServerContext, Depends(get_context)]

#: The start of every API route's path.
API_PREFIX = "/api/v1"

#: Where the gate leaves the role of the request's key (``request.state``).
ROLE_STATE = "weir_role"
API_KEYS_ACTION = "Managing API keys"

_bearer = HTTPBearer(auto_error=False, description="An API key: `weir server api-key create`.")


def key_checker(ctx: ServerContext) -> Callable[[str], Role | None]:
    """``check(key)``: the role of a valid, unrevoked key, else None (a database read)."""

    def check(key: str) -> Role | None:
        with ctx.db.session() as session:
            return api_keys.verify(session, key)

    return check


# The key is checked by ``weir.server.gate`` before the body is read (reads: any key,
# writes: agent or admin, api-keys: admin), which leaves its role in the request's
# state. These dependencies mark the routes that need a key in the OpenAPI spec, so
# its users see the Bearer scheme; ``admin_only`` also keeps a route to admins.
async def authorize(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    """Reads need any valid key; writes need an agent or admin key (when auth is on)."""


def admin_only(what: str) -> Callable[..., Awaitable[None]]:
    """A dependency letting only admin keys through (when auth is on); ``what`` names the
    guarded action in the refusal, e.g. "Deleting a flow run"."""

    async def authorize_admin(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> None:
        role = getattr(request.state, ROLE_STATE, None)  # None: auth is off
        if role is not None and role is not Role.ADMIN:
            raise HTTPException(status_code=403, detail=admin_refusal(what, role))

    return authorize_admin


def admin_refusal(what: str, role: Role) -> str:
    return f"{what} needs an admin key; this one has role {role.value}."


#: Managing API keys is for admins only (the gate checks it too, before the body).
authorize_admin = admin_only(API_KEYS_ACTION)
#: Deleting runs drops their history, archiving drops scheduled runs: admins only.
AdminOnly = [Depends(admin_only("Deleting flow runs and archiving flows"))]


def writer_only(what: str) -> Callable[..., Awaitable[None]]:
    """A dependency letting agent and admin keys through (when auth is on), not read-only
    ones: for reads that reveal what only runs may see, e.g. a secret's value."""

    async def authorize_writer(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> None:
        role = getattr(request.state, ROLE_STATE, None)  # None: auth is off
        if role is Role.READ_ONLY:
            raise HTTPException(
                status_code=403,
                detail=f"{what} needs an agent or admin key; this one has role {role.value}.",
            )

    return authorize_writer


def api_router(
    prefix: str, tag: str, guard: Callable[..., Awaitable[None]] | None = authorize
) -> APIRouter:
    """A resource's router: its routes are made with their final path, tag and guard.

    The app adds them as they are (see ``weir.server.app``). Nesting routers with
    ``include_router`` instead makes FastAPI build each route again at every level (its
    dependencies, parameters and response fields): 40 ms of the server's start.
    """
    if guard is authorize:
        # Nothing to run: the spec's mark alone, without a dependency FastAPI would
        # solve for every request (two levels of it, a tenth of a read's CPU).
        return APIRouter(prefix=API_PREFIX + prefix, tags=[tag], route_class=KeyedRoute)
    dependencies = [Depends(guard)] if guard is not None else []
    return APIRouter(
        prefix=API_PREFIX + prefix,
        tags=[tag],
        dependencies=dependencies,
        route_class=OneHopRoute,
    )


#: How the OpenAPI spec marks an operation that takes the Bearer key (``_bearer``).
BEARER_SECURITY = [{"HTTPBearer": []}]


class KeyedRoute(OneHopRoute):
    """A route the spec shows as taking the Bearer key, as ``authorize`` would mark it
    (a route with a key-reading dependency of its own, e.g. ``AdminOnly``, is marked by
    FastAPI already)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if not _reads_key(self.dependant):
            self.openapi_extra = {"security": BEARER_SECURITY, **(self.openapi_extra or {})}


def _reads_key(dependant: Dependant) -> bool:
    return any(isinstance(d.call, SecurityBase) or _reads_key(d) for d in dependant.dependencies)
