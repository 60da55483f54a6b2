"""``weir agent start``: run an agent (local or docker) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.text import Text

from weir.cli.api_options import api_options

if TYPE_CHECKING:
    from weir.agent import Agent


@click.group("agent")
def agent() -> None:
    """Agents: pick up flow runs from the server and run them."""


@agent.command("start")
@click.option(
    "--type",
    "kind",
    type=click.Choice(["local", "docker"]),
    default="local",
    show_default=True,
    help="local: each run in a subprocess here. docker: each run in a container of the "
    "run's image, through the Docker-API engine at DOCKER_HOST.",
)
@click.option(
    "--label",
    "-l",
    "labels",
    multiple=True,
    help="A label this agent has (repeatable); it takes runs whose labels it all has.",
)
@click.option(
    "--max-runs",
    type=click.IntRange(1),
    default=None,
    help="At most this many flow runs at once [default: no limit].",
)
@click.option("--name", default=None, help="The agent's name [default: TYPE-HOST-XXXX].")
@click.option(
    "--grace-period",
    type=click.FloatRange(0),
    default=30.0,
    show_default=True,
    help="On SIGTERM/Ctrl-C, seconds to let runs finish before handing them back.",
)
@click.option(
    "--process-retries",
    type=click.IntRange(0),
    default=2,
    show_default=True,
    help="Schedule a run again this many times when its process crashes (killed, out of "
    "memory) before failing it; the next attempt keeps the tasks that finished.",
)
@click.option("--show-output", is_flag=True, help="Print each run's process output here too.")
@click.option(
    "--prestart/--no-prestart",
    default=True,
    show_default=True,
    help="With --start-method spawn: keep a spare process with weir imported, so a claimed "
    "run starts at once.",
)
@click.option(
    "--start-method",
    type=click.Choice(["fork", "spawn"]),
    default=None,
    help="local: fork each run's process from a fork server that has weir imported, or "
    "spawn a new interpreter per run (for code that cannot run in a forked process) "
    "[default: fork where the system has it, else spawn].",
)
@click.option(
    "--preload",
    "preload",
    multiple=True,
    metavar="MODULE",
    help="local: a library the flows import (repeatable or comma-separated, e.g. pandas), "
    "imported once by the process runs are forked from (or the spare process), so that "
    "no run pays for its import. Restart the agent after upgrading it.",
)
@click.option(
    "--network",
    default=None,
    help="docker: the containers' network (e.g. host, to reach a server on 127.0.0.1).",
)
@click.option(
    "--volume",
    "volumes",
    multiple=True,
    metavar="HOST:CONTAINER[:ro]",
    help="docker: a bind mount for every container (repeatable).",
)
@click.option(
    "--env",
    "env",
    multiple=True,
    metavar="KEY=VALUE",
    help="An environment variable for every run (repeatable); the run config's win.",
)
@api_options
def start(
    kind: str,
    labels: tuple[str, ...],
    max_runs: int | None,
    name: str | None,
    grace_period: float,
    process_retries: int,
    show_output: bool,
    prestart: bool,
    start_method: str | None,
    preload: tuple[str, ...],
    network: str | None,
    volumes: tuple[str, ...],
    env: tuple[str, ...],
    api_url: str | None,
    api_key: str | None,
) -> None:
    """Start an agent: each flow run it claims runs in a subprocess of this machine
    (--type local) or in a container of the run's image (--type docker).

    SIGTERM or Ctrl-C stops it claiming; it waits up to --grace-period for its
    runs, then stops them and hands them back for another agent. Press Ctrl-C
    twice to skip the wait.
    """
    from weir.agent import install_signal_handlers
    from weir.agent.docker import parse_env
    from weir.exceptions import ClientError, ConfigurationError

    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(message)s")
    common: dict[str, Any] = {
        "api_url": api_url,
        "api_key": api_key,
        "name": name,
        "labels": labels,
        "max_runs": max_runs,
        "grace_period": grace_period,
        "process_retries": process_retries,
        "echo": log_line,
    }
    try:
        common["env"] = parse_env(env)
        if start_method is not None:
            common["start_method"] = start_method
        if preload:
            common["preload"] = preload
        running = _make_agent(kind, common, show_output, prestart, network, volumes)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    restore = install_signal_handlers(running)
    try:
        running.register()
        running.serve()
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        restore()
        running.client.close()


def _make_agent(
    kind: str,
    common: dict[str, Any],
    show_output: bool,
    prestart: bool,
    network: str | None,
    volumes: tuple[str, ...],
) -> Agent:
    """The agent --type names, with the options that kind has (others are refused)."""
    if kind == "docker":
        if show_output:
            raise click.UsageError("--show-output is for --type local; read `docker logs` instead.")
        if common.pop("start_method", None) is not None:
            raise click.UsageError("--start-method is for --type local.")
        if common.pop("preload", None) is not None:
            raise click.UsageError("--preload is for --type local: bake it into the image.")
        from weir.agent.docker import DockerAgent

        return DockerAgent(network=network, volumes=volumes, **common)
    if network is not None or volumes:
        raise click.UsageError("--network and --volume are for --type docker.")
    from weir.agent import LocalAgent

    return LocalAgent(show_output=show_output, prestart=prestart, **common)


_console: Console | None = None


def log_line(line: str) -> None:
    """One timestamped line of what the agent does (text as is, no markup)."""
    global _console
    if _console is None:
        _console = Console(log_path=False)
    _console.log(Text(line))
