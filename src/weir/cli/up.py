"""``weir up``: the server (embedded SQLite), its services and a local agent, in one process.

What it does, in order: make sure an admin API key for this server exists and
is kept in ``$WEIR_HOME/local_keys.json`` (0600; ``WEIR_HOME``, default
``~/.weir``, 0700); serve the API, UI and services on 127.0.0.1 from a thread,
with auth on (database: ``WEIR_DATABASE_URL``, else SQLite under ``WEIR_HOME``);
register the flows in ``examples/`` with Local storage; create one run of the
``etl`` flow; print where to look, with a link that logs the browser in; then
run a local agent in the main thread until Ctrl-C or SIGTERM, which stop the
agent (its runs get a grace period, then are handed back) and then the server.

Auth is on because anything on this machine can reach 127.0.0.1: another user,
or a web page the user visits. The CLI, agents and runs of this user find the
key in ``WEIR_HOME`` on their own (see ``weir.client.settings``). ``--no-auth``
serves without keys, as before.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from weir.cli.agent import log_line
from weir.cli.api_options import console
from weir.cli.server import retention_option

if TYPE_CHECKING:
    import uvicorn

    from weir.client import Client

logger = logging.getLogger(__name__)

#: The example flow ``weir up`` runs once.
DEMO_FLOW = "etl"


@click.command("up")
@click.option("--port", default=4200, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-examples", is_flag=True, help="Register no example flows and run none.")
@click.option(
    "--examples",
    "examples_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the example flows are [default: ./examples, else the checkout's].",
)
@click.option(
    "--grace-period",
    type=click.FloatRange(0),
    default=10.0,
    show_default=True,
    help="On Ctrl-C, seconds to let runs finish before handing them back.",
)
@retention_option
@click.option(
    "--no-auth",
    is_flag=True,
    help="Serve without API keys: anyone and anything on this machine (a web page too) "
    "can then use the server and run code through its agent.",
)
def up(
    port: int,
    no_examples: bool,
    examples_dir: Path | None,
    grace_period: float,
    retention: float | None,
    no_auth: bool,
) -> None:
    """Start a weir server and a local agent together, and run an example flow.

    The server listens on 127.0.0.1 only, with auth on: an admin key is kept in
    WEIR_HOME (~/.weir) for this user's CLI, agents and browser. Ctrl-C stops everything.
    """
    from weir.agent import LocalAgent, install_signal_handlers
    from weir.client import Client
    from weir.exceptions import ClientError, ConfigurationError
    from weir.server.settings import ServerSettings

    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = ServerSettings.from_env()
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    settings.auth = not no_auth
    if retention is not None:
        settings.retention.retention = retention
    api_url = f"http://127.0.0.1:{port}/api/v1"
    _check_port_free(port)
    key = None if no_auth else local_admin_key(settings, api_url)
    server, thread = start_server(settings, port)
    agent = LocalAgent(api_url=api_url, api_key=key, grace_period=grace_period, echo=log_line)
    # From here on Ctrl-C asks the agent to stop; the steps below finish first.
    restore = install_signal_handlers(agent)
    try:
        with Client(api_url, key) as client:
            run_id = None
            if not no_examples:
                run_id = register_examples(client, examples_dir)
            print_banner(port, settings.database_url, run_id, key)
        agent.register()
        agent.serve()
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        restore()
        agent.client.close()
        server.should_exit = True
        thread.join(15)
    console.print("weir is down.")


def start_server(settings: Any, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve the app (with its services) on 127.0.0.1:port from a thread; wait until it listens."""
    import uvicorn

    from weir.server.app import create_app

    app = create_app(settings, services=True)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    # uvicorn would install its own Ctrl-C handlers; the agent in the main thread owns them.
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, name="weir-up-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise click.ClickException(
                f"The weir server did not start on port {port}; see the messages above."
            )
        time.sleep(0.02)
    return server, thread


def local_admin_key(settings: Any, api_url: str) -> str:
    """The admin key kept for this server in WEIR_HOME: reused while the database still
    accepts it, else a new one made (and kept, 0600)."""
    from weir.client import settings as client_settings
    from weir.schemas.actions import Role
    from weir.server.database.engine import Database
    from weir.server.database.migrate import upgrade
    from weir.server.models import api_keys
    from weir.server.settings import private_home

    private_home()
    db = Database(settings.database_url, schema=settings.database_schema)
    try:
        upgrade(db)
        kept = client_settings.local_key(api_url)
        with db.session(write=True) as session:
            if kept is not None and api_keys.verify(session, kept) is Role.ADMIN:
                return kept
            _row, key = api_keys.create(session, "weir up", Role.ADMIN)
    finally:
        db.dispose()
    client_settings.save_local_key(api_url, key)
    return key


def _check_port_free(port: int) -> None:
    with socket.socket() as s:
        # As uvicorn binds: connections of a server stopped a moment ago linger in
        # TIME_WAIT on this port, and must not make a restart look like a taken port.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            raise click.ClickException(
                f"Port {port} on 127.0.0.1 is taken ({exc.strerror}); is another weir server "
                "running? Stop it, or pick another port with --port."
            ) from exc


def find_examples(given: Path | None) -> Path | None:
    """The examples directory: the one given, ./examples, or the checkout's."""
    if given is not None:
        return given
    checkout = Path(__file__).resolve().parents[3] / "examples"
    for candidate in (Path.cwd() / "examples", checkout):
        if candidate.is_dir() and any(candidate.glob("*.py")):
            return candidate
    return None


def register_examples(client: Client, given: Path | None) -> str | None:
    """Register every flow in the examples; start one run of ``etl``; return its id."""
    directory = find_examples(given)
    if directory is None:
        console.print("No examples/ directory here, so no example flows were registered.")
        return None
    registered = {}
    for script in sorted(directory.glob("*.py")):
        registered.update(_register_script(client, script.resolve()))
    if registered:
        console.print(f"Registered flows from {directory}: {', '.join(sorted(registered))}.")
    if DEMO_FLOW not in registered:
        return None
    run = client.create_flow_run(registered[DEMO_FLOW], name=f"{DEMO_FLOW}-from-weir-up")
    return str(run.id)


def _register_script(client: Client, script: Path) -> dict[str, str]:
    from weir.exceptions import FlowValidationError, StorageError
    from weir.registration import register_flow
    from weir.storage import Local
    from weir.storage.scripts import flows_in_script

    out: dict[str, str] = {}
    try:
        flows = flows_in_script(script)
        for name, flow in flows.items():
            storage = flow.storage if flow.storage is not None else Local(path=script)
            out[name] = str(register_flow(flow, client=client, storage=storage, source=script))
    except (StorageError, FlowValidationError) as exc:
        console.print(f"[yellow]Skipped {script}:[/yellow] {exc}", highlight=False)
    return out


def print_banner(port: int, database_url: str, run_id: str | None, key: str | None) -> None:
    from weir.client.settings import LOCAL_KEYS, weir_home

    base = f"http://127.0.0.1:{port}"
    env = "" if port == 4200 else f"WEIR_API_URL={base}/api/v1 "
    # The key rides in the fragment, which browsers never send to a server (nor log).
    ui = f"{base}/login#key={key}" if key else f"{base}/"
    lines = [
        "[bold]weir is up[/bold]",
        f"  UI:       {ui}",
        f"  API:      {base}/api/v1  (docs: {base}/api/v1/docs)",
        f"  database: {_safe(database_url)}",
    ]
    if key:
        lines.append(
            f"  auth:     on; admin key in {weir_home() / LOCAL_KEYS} (this user's weir "
            "commands use it)"
        )
    else:
        lines.append("  auth:     off (--no-auth): anything on this machine can use this server")
    if run_id:
        lines += [
            f"  started a run of the {DEMO_FLOW} flow: {run_id}",
            "  watch it:",
            f"    {env}weir flow-run trace {run_id}",
            f"    {env}weir flow-run logs {run_id} -f",
        ]
    lines.append("  Ctrl-C stops the agent and the server.")
    console.print("\n".join(lines), highlight=False, soft_wrap=True)


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
