"""``weir server``: start the API (and services), run the services alone, manage API keys."""

from __future__ import annotations

import faulthandler
import gc
import ipaddress
import logging
import signal
import threading
from typing import TYPE_CHECKING

import click

# Rich is imported by `weir server api-key ls` alone, for its table: the other commands
# print plain lines, and importing rich was 25 ms of `weir server start`.
if TYPE_CHECKING:  # imported lazily at run time, to keep `weir --help` fast
    from weir.server.database.engine import Database
    from weir.server.settings import ServerSettings

logger = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.group("server")
def server() -> None:
    """Run the weir server and manage its API keys."""


def _settings(
    database_url: str | None, auth: bool | None, retention: float | None = None
) -> ServerSettings:
    from weir.exceptions import ConfigurationError
    from weir.server.settings import ServerSettings

    try:
        settings = ServerSettings.from_env()
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    if database_url:
        settings.database_url = database_url
    if auth is not None:
        settings.auth = auth
    if retention is not None:
        settings.retention.retention = retention
    return settings


class Duration(click.ParamType):
    """A duration such as 30d, 12h or 90m, as seconds."""

    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        from weir.exceptions import ConfigurationError
        from weir.server.settings import parse_duration

        try:
            return parse_duration(str(value), name="--retention")
        except ConfigurationError as exc:
            self.fail(str(exc), param, ctx)


#: ``--retention``, shared by `weir server start`, `weir server services` and `weir up`.
retention_option = click.option(
    "--retention",
    type=Duration(),
    default=None,
    help="Delete finished runs (with their task runs, logs and trace) this long after they "
    "ended, e.g. 30d, 12h, 90m [default: WEIR_SERVER_RETENTION, else keep everything].",
)


def duration_text(seconds: float | None) -> str:
    """A retention as the banner shows it: 30d, 12h, 90m, or off."""
    if seconds is None:
        return "off"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


_database_option = click.option(
    "--database-url",
    envvar="WEIR_DATABASE_URL",
    default=None,
    show_envvar=True,
    help="sqlite:///path or postgresql+psycopg://… [default: SQLite under WEIR_HOME].",
)


@server.command("start")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=4200, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--no-services",
    is_flag=True,
    help="Serve the API only; run the services elsewhere (`weir server services`).",
)
@click.option(
    "--auth/--no-auth", default=None, help="Require API keys [default: WEIR_SERVER_AUTH, else off]."
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests for this host name (repeatable; `*.example.org` for its "
    "subdomains). 127.0.0.1, localhost, ::1 and --host are always answered; others get 400, "
    "so a web page cannot reach the server through a DNS name it controls. `*` answers any "
    "name (unsafe). Also WEIR_SERVER_ALLOWED_HOSTS (comma-separated).",
)
@_database_option
@retention_option
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def start(
    host: str,
    port: int,
    no_services: bool,
    auth: bool | None,
    allowed_hosts: tuple[str, ...],
    database_url: str | None,
    retention: float | None,
    log_level: str,
) -> None:
    """Serve the REST API (and, unless --no-services, the scheduler, lazarus and retention)."""
    # Start-up makes some two hundred thousand long-lived objects (modules, models, routes),
    # and the cyclic GC would walk them again and again meanwhile: a tenth of the start.
    # The app freezes them and turns the GC back on as it starts serving.
    gc.disable()
    settings = _settings(database_url, auth, retention)
    added = tuple(h.strip().lower() for h in (host, *allowed_hosts) if h.strip())
    settings.allowed_hosts = tuple(dict.fromkeys(settings.allowed_hosts + added))
    if not settings.auth and not is_loopback(host):
        raise click.UsageError(
            f"Refusing to listen on {host} with auth off: anyone who can reach it could run "
            "code on your agents. Turn auth on with --auth (or WEIR_SERVER_AUTH=true) and create "
            "a key with `weir server api-key create NAME --role admin`, or listen on 127.0.0.1."
        )
    db, held = _serve_alone(settings)  # held: the SQLite lock lasts while it is open
    import uvicorn

    from weir.server.app import create_app

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    # A fatal signal (a SIGBUS from a mapped file, say) then leaves every thread's
    # traceback in the log, not just an exit status.
    faulthandler.enable()
    app = create_app(settings, db=db, services=not no_services)
    click.echo(
        f"weir server on http://{host}:{port}/api/v1 "
        f"(database: {_safe(settings.database_url)}, auth: "
        f"{'on' if settings.auth else 'off'}, services: "
        f"{'off' if no_services else 'on'}, retention: "
        f"{duration_text(settings.retention.retention)})"
    )
    if "*" in settings.allowed_hosts:
        click.secho(
            "Answering any host name (--allowed-host '*'): a web page can reach this "
            "server through a DNS name pointed at it.",
            fg="yellow",
        )
    uvicorn.run(app, host=host, port=port, log_level=log_level)


def _serve_alone(settings: ServerSettings) -> tuple[Database, object]:
    """The server's database; on SQLite, refused if another server serves the same file
    (see ``services.leadership``), else with what holds the lock, to keep while serving."""
    from weir.exceptions import ConfigurationError
    from weir.server.services.leadership import refuse_second_sqlite_server

    db = _connected(settings)
    try:
        return db, refuse_second_sqlite_server(db)
    except ConfigurationError as exc:
        db.dispose()
        raise click.ClickException(str(exc)) from exc


def _connected(settings: ServerSettings) -> Database:
    """The settings' database, connected to once: a URL that is not one, or a database
    that cannot be reached, is a message saying which and what to check, not the
    traceback the server's start-up would print."""
    from sqlalchemy.exc import DBAPIError

    from weir.exceptions import ConfigurationError
    from weir.server.database.engine import Database

    try:
        db = Database(settings.database_url, schema=settings.database_schema)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, ValueError) as exc:  # a SQLite file's folder it cannot make, a bad port
        raise click.ClickException(
            f"Cannot use the database URL {settings.database_url!r}: {exc}. Write it as "
            "sqlite:///path/to/weir.db or postgresql+psycopg://user@host:5432/db."
        ) from exc
    try:
        with db.engine.connect():
            pass
    except (DBAPIError, OSError, ValueError) as exc:
        db.dispose()
        cause = getattr(exc, "orig", None) or exc
        why = (str(cause).strip().splitlines() or ["no answer"])[0]
        raise click.ClickException(
            f"Cannot connect to the database {_safe(settings.database_url)}: {why}. Check "
            "the URL, that the database server runs, and that the database exists "
            "(PostgreSQL: `createdb NAME`)."
        ) from exc
    return db


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@server.command("services")
@_database_option
@retention_option
def services(database_url: str | None, retention: float | None) -> None:
    """Run the scheduler, lazarus and retention services alone, until interrupted."""
    from weir.server.app import services_for
    from weir.server.database.migrate import upgrade
    from weir.server.services.leadership import Leadership, ServiceSet

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(message)s")
    settings = _settings(database_url, None, retention)
    db = _connected(settings)
    upgrade(db)
    # On PostgreSQL, one copy among all servers and `weir server services` runs them.
    running = ServiceSet(lambda: services_for(db, settings))
    leadership = Leadership(db, on_lead=running.start, on_follow=running.stop)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    leadership.start()
    click.echo(f"weir services running on {_safe(settings.database_url)}; Ctrl-C stops them.")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    leadership.stop()


@server.group("api-key")
def api_key() -> None:
    """Create, list and revoke API keys (works on the database directly)."""


def _database(database_url: str | None) -> Database:
    from weir.server.database.migrate import upgrade

    settings = _settings(database_url, None)
    db = _connected(settings)
    upgrade(db)
    return db


@api_key.command("create")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["admin", "agent", "read_only"]),
    default="agent",
    show_default=True,
    help="admin: everything; agent: read and write; read_only.",
)
@_database_option
def create_key(name: str, role: str, database_url: str | None) -> None:
    """Create a key and print it (it is shown this once only)."""
    from weir.schemas.actions import Role
    from weir.server.models import api_keys

    db = _database(database_url)
    with db.session(write=True) as session:
        row, key = api_keys.create(session, name, Role(role))
        prefix = row.prefix
    db.dispose()
    click.echo(
        f"Created {role} key {name!r} (prefix {prefix}). Keep it now, it is not shown again:"
    )
    click.echo(key)


@api_key.command("ls")
@_database_option
def list_keys(database_url: str | None) -> None:
    """List API keys (never the keys themselves)."""
    from rich.table import Table

    from weir.cli.api_options import console, when
    from weir.server.models import api_keys

    db = _database(database_url)
    table = Table("PREFIX", "NAME", "ROLE", "CREATED", "REVOKED")
    with db.session() as session:
        for row in api_keys.list_all(session):
            table.add_row(
                row.prefix, row.name, row.role, when(row.created), "yes" if row.revoked else ""
            )
    db.dispose()
    console.print(table)


@api_key.command("revoke")
@click.argument("key_id_or_prefix")
@_database_option
def revoke_key(key_id_or_prefix: str, database_url: str | None) -> None:
    """Revoke a key by its id or prefix; it stops working at once."""
    from weir.server.errors import NotFound
    from weir.server.models import api_keys

    db = _database(database_url)
    try:
        with db.session(write=True) as session:
            row = api_keys.revoke(session, key_id_or_prefix)
            name = row.name
    except NotFound as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"Revoked key {name!r} ({key_id_or_prefix}).")
