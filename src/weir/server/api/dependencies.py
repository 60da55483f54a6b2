"""What routes share: the server context (database, clock, work signal) and auth."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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


def key_checker(ctx: ServerContext) -> Callable[[str], Role | None]:
    """``check(key)``: the role of a valid, unrevoked key, else None (a database read)."""

    def check(key: str) -> Role | None:
        with ctx.db.session() as session:
            return api_keys.verify(session, key)

    return check


# The key is checked by ``weir.server.gate`` before the body is read (reads: any key,
# writes: agent or admin, api-keys: admin). These dependencies only mark the routes
# that need a key in the OpenAPI spec, so its users see the Bearer scheme.
async def authorize(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    """Reads need any valid key; writes need an agent or admin key (when auth is on)."""


async def authorize_admin(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> None:
    """Managing API keys needs an admin key (when auth is on)."""
