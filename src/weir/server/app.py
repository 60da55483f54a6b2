"""The FastAPI application: routers under ``/api/v1``, error handlers, services at startup."""

from __future__ import annotations

import asyncio
import gc
import importlib
import importlib.util
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.routing import BaseRoute

from weir.server.api import (
    agents,
    api_keys,
    bodies,
    concurrency,
    flow_runs,
    flows,
    health,
    logs,
    projects,
    secrets,
    task_runs,
    ui_data,
    work,
)
from weir.server.api.dependencies import API_PREFIX, ServerContext, key_checker
from weir.server.database import vacuum
from weir.server.database.engine import Database
from weir.server.database.migrate import upgrade
from weir.server.database.outage import is_unavailable
from weir.server.database.wal import WalCheckpointer
from weir.server.errors import InvalidField, ServerError
from weir.server.gate import RequestGate
from weir.server.services.base import LoopService
from weir.server.services.batch_writer import BatchWriter
from weir.server.services.leadership import Leadership, ServiceSet
from weir.server.settings import ServerSettings
from weir.server.unicode_guard import LoneSurrogateGuard

logger = logging.getLogger(__name__)

#: The API's routers; each made with its routes' final path and guard (``api_router``).
_ROUTERS = (
    health,
    projects,
    flows,
    flow_runs,
    task_runs,
    logs,
    agents,
    work,
    concurrency,
    secrets,
    ui_data,
    api_keys,
)


def _api_routes() -> list[BaseRoute]:
    return [route for module in _ROUTERS for route in module.router.routes]


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServerError)
    async def _server_error(_request: Request, exc: ServerError) -> JSONResponse:
        if isinstance(exc, InvalidField):
            return JSONResponse({"detail": exc.errors()}, status_code=exc.status_code)
        body: dict[str, object] = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, exc: IntegrityError) -> JSONResponse:
        # Two requests raced to create the same thing; the loser may simply retry.
        logger.info("A write conflicted with existing data: %s", exc.orig)
        return JSONResponse(
            {
                "detail": "The write conflicts with data written at the same time; "
                "nothing was changed, read again and retry."
            },
            status_code=409,
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # The database is down, restarting, unwritable or saturated: a condition to
        # retry, not a bug. The database logs the outage once (see database/outage.py).
        logger.debug("The database did not answer: %s", exc)
        return JSONResponse(
            {"detail": "The server's database is unavailable right now; retry shortly."},
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # E.g. PostgreSQL made read-only, which its driver raises as an InternalError.
        if is_unavailable(exc):
            return await _unavailable(request, exc)
        logger.error("A database error: %s", exc, exc_info=exc)
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer, but each error's input echoed in short: a refused batch
        # echoed whole took seconds to encode, on the event loop.
        errors = bodies.shorten(list(exc.errors()))
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        # E.g. a NUL character PostgreSQL text cannot hold.
        return JSONResponse(
            {"detail": f"The database cannot store a value that was sent: {exc.orig}"},
            status_code=422,
        )


def _freeze_startup_objects() -> None:
    """Move what start-up allocated (modules, models, routes) out of the GC's way.

    The cyclic GC otherwise walks those hundreds of thousands of long-lived objects
    again and again while large batches are parsed; frozen, it only sees what
    requests allocate. Measured on a batch creating 1,000 task runs: 85-95 ms -> 37 ms.
    ``weir server start`` turns the GC off while it starts; it is back on from here.

    Frozen without a collection first: the cycles start-up left unreachable are few
    (about 1,400 objects, 0.4 MB, once per process) and a full collection over
    everything start-up made took 60-90 ms, a tenth of the start.
    """
    gc.freeze()
    gc.enable()


#: Allocations (less deallocations) between two collections of the GC's youngest
#: generation while the server serves, against Python's 700. A batch of a thousand
#: task runs keeps tens of thousands of objects alive until its answer, so at 700 the
#: GC walked them over and over before they were freed whole: PostgreSQL's batch
#: writes spent about 3 ms of every 1,000 task runs in collections. At this threshold
#: a batch ends before any (its objects freed by their counts); cycles wait longer,
#: a few megabytes at most.
YOUNG_THRESHOLD = 50_000


@contextmanager
def _young_threshold() -> Iterator[None]:
    """The GC's youngest threshold at ``YOUNG_THRESHOLD`` while the app serves, then
    as it was (tests run many apps in one process)."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], YOUNG_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def create_app(
    settings: ServerSettings | None = None,
    *,
    db: Database | None = None,
    clock: Callable[[], float] = time.time,
    services: bool = False,
    migrate: bool = True,
) -> FastAPI:
    """The weir API app; ``services=True`` also runs the scheduler, lazarus and (when a
    retention is set) the retention service in-process."""
    settings = settings or ServerSettings.from_env()
    database = db or Database(settings.database_url, schema=settings.database_schema)
    ctx = ServerContext(db=database, settings=settings, clock=clock)
    # Every transaction that makes a run claimable wakes the waiting claims once it
    # commits, whichever route or service wrote it.
    database.on_new_work = ctx.work.notify

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        ctx.work.bind(asyncio.get_running_loop())
        if migrate:
            await asyncio.to_thread(upgrade, database)
        await asyncio.to_thread(vacuum.convert_at_start, database)
        leadership = _leadership(ctx).start() if services else None
        path = database.sqlite_path
        checkpoints = WalCheckpointer(path).start() if path else None
        # A follower writes the batches it took; sweeping up others' is the leader's.
        sweeps = (lambda: leadership.leading) if leadership is not None else (lambda: True)
        batches = BatchWriter(database, ctx.batch_stored, clock=clock, sweeps=sweeps).start()
        _freeze_startup_objects()
        try:
            with _young_threshold():
                yield
        finally:
            if leadership is not None:
                leadership.stop()
            batches.stop()
            if checkpoints is not None:
                checkpoints.stop()

    app = FastAPI(
        title="weir",
        summary="Workflow orchestration: flows, runs, task runs, logs, agents.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.weir = ctx
    # Added as they are: include_router would build every route again (see api_router).
    app.router.routes.extend(_api_routes())
    _add_error_handlers(app)
    app.add_middleware(LoneSurrogateGuard)
    # Added last, so it runs first: nothing reads a body the gate refuses.
    app.add_middleware(RequestGate, settings=settings, verify=key_checker(ctx))
    _mount_ui(app)
    return app


def _mount_ui(app: FastAPI) -> None:
    """Let the web UI package, when present, add its routes (``weir.server.ui.mount(app)``)."""
    if importlib.util.find_spec("weir.server.ui") is None:
        return
    ui = importlib.import_module("weir.server.ui")
    mount = getattr(ui, "mount", None)
    if callable(mount):
        mount(app)


def _leadership(ctx: ServerContext) -> Leadership:
    """The services, run while this process leads them (see services.leadership)."""
    running = ServiceSet(lambda: services_for(ctx.db, ctx.settings, clock=ctx.clock))
    leadership = Leadership(ctx.db, on_lead=running.start, on_follow=running.stop)
    ctx.services = lambda: "leader" if leadership.leading else "follower"
    return leadership


def services_for(
    db: Database,
    settings: ServerSettings,
    *,
    clock: Callable[[], float] = time.time,
) -> list[LoopService]:
    """The services a server runs: scheduler, lazarus, and retention when one is set."""
    from weir.server.services import lazarus, retention, scheduler

    found: list[LoopService] = [
        scheduler.Scheduler(db, settings.scheduler, clock=clock),
        lazarus.Lazarus(db, settings.lazarus, clock=clock),
    ]
    if settings.retention.retention is not None:
        found.append(retention.Retention(db, settings.retention, clock=clock))
    # Said where it applies: with several servers, the leader's settings are in force.
    keep = settings.retention.retention
    logger.info(
        "Services here: scheduler, lazarus, %s.",
        f"retention of {keep:g} s" if keep is not None else "no retention (every run is kept)",
    )
    return found
