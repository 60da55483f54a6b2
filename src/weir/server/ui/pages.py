"""The UI's routes: one page shell per view, the static files, and security headers."""

from __future__ import annotations

import hashlib
import uuid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import load_only

from weir import state_types
from weir.server.database import orm

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_URL = "/ui/static"
#: Outside STATIC_URL: the static mount would answer for it first.
STATE_TYPES_URL = "/ui/state_types.js"

#: Pages load only their own scripts and styles and talk only to this server.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}


def static_version() -> str:
    """A digest of the static files, appended to their URLs so browsers never run stale JS."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    digest.update(state_types.javascript().encode())
    return digest.hexdigest()[:12]


@cache
def templates() -> Jinja2Templates:
    """The pages' templates, loaded at the first page asked for: Jinja and the digest of
    the static files are no part of a server's start (it answers the API first)."""
    from fastapi.templating import Jinja2Templates

    found = Jinja2Templates(directory=str(HERE / "templates"))
    found.env.globals["static_url"] = STATIC_URL
    found.env.globals["static_version"] = static_version()
    return found


def _router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def page(request: Request, template: str, **values: Any) -> HTMLResponse:
        ctx = request.app.state.weir
        return templates().TemplateResponse(
            request,
            template,
            {"auth": ctx.settings.auth, "api": "/api/v1", **values},
            headers=_HEADERS,
        )

    @router.get("/", response_class=HTMLResponse)
    def dashboard_page(request: Request) -> HTMLResponse:
        return page(request, "dashboard.html", nav="dashboard", title="Dashboard")

    @router.get("/flows", response_class=HTMLResponse)
    def flows_page(request: Request) -> HTMLResponse:
        return page(request, "flows.html", nav="flows", title="Flows")

    def not_found(request: Request, message: str) -> HTMLResponse:
        response = page(request, "not_found.html", nav="", title="Not found", message=message)
        response.status_code = 404
        return response

    def known(request: Request, table: type[orm.Flow] | type[orm.FlowRun], text: str) -> bool:
        """Whether ``text`` is the id of a row of ``table`` (the page's script would
        otherwise draw an empty shell for an id nothing has)."""
        try:
            object_id = uuid.UUID(text)
        except ValueError:
            return False
        with request.app.state.weir.db.session() as session:
            return session.get(table, object_id, options=[load_only(table.id)]) is not None

    @router.get("/flows/{flow_id}", response_class=HTMLResponse)
    def flow_page(request: Request, flow_id: str) -> HTMLResponse:
        if not known(request, orm.Flow, flow_id):
            return not_found(request, f"There is no flow with id {flow_id}.")
        return page(request, "flow.html", nav="flows", title="Flow", object_id=flow_id)

    @router.get("/flow-runs", response_class=HTMLResponse)
    def runs_page(request: Request) -> HTMLResponse:
        return page(request, "runs.html", nav="runs", title="Flow runs")

    @router.get("/flow-runs/{flow_run_id}", response_class=HTMLResponse)
    def flow_run_page(request: Request, flow_run_id: str) -> HTMLResponse:
        if not known(request, orm.FlowRun, flow_run_id):
            return not_found(request, f"There is no flow run with id {flow_run_id}.")
        return page(request, "flow_run.html", nav="runs", title="Flow run", object_id=flow_run_id)

    @router.get("/agents", response_class=HTMLResponse)
    def agents_page(request: Request) -> HTMLResponse:
        return page(request, "agents.html", nav="agents", title="Agents")

    @router.get(STATE_TYPES_URL)
    def state_types_script() -> Response:
        return Response(state_types.javascript(), media_type="text/javascript", headers=_HEADERS)

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> HTMLResponse:
        return page(request, "login.html", nav="login", title="Log in")

    return router


def mount(app: FastAPI) -> None:
    """Add the UI's pages and static files to the weir app."""
    app.mount(STATIC_URL, StaticFiles(directory=str(STATIC)), name="ui-static")
    # The pages' routes as they are: include_router would build each one again.
    app.router.routes.extend(_router().routes)
