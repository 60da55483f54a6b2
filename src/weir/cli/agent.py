"""``weir agent start``: run a local agent until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging

import click
from rich.console import Console
from rich.text import Text

from weir.cli.api_options import api_options


@click.group("agent")
def agent() -> None:
    """Agents: pick up flow runs from the server and run them."""


@agent.command("start")
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
@click.option("--name", default=None, help="The agent's name [default: local-HOST-XXXX].")
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
    help="Keep a spare process with weir imported, so a claimed run starts at once.",
)
@api_options
def start(
    labels: tuple[str, ...],
    max_runs: int | None,
    name: str | None,
    grace_period: float,
    process_retries: int,
    show_output: bool,
    prestart: bool,
    api_url: str | None,
    api_key: str | None,
) -> None:
    """Start a local agent: each flow run it claims runs in a subprocess of this machine.

    SIGTERM or Ctrl-C stops it claiming; it waits up to --grace-period for its
    runs, then stops them and hands them back for another agent. Press Ctrl-C
    twice to skip the wait.
    """
    from weir.agent import LocalAgent, install_signal_handlers
    from weir.exceptions import ClientError

    logging.basicConfig(level="WARNING", format="%(asctime)s %(levelname)s %(message)s")
    local = LocalAgent(
        api_url=api_url,
        api_key=api_key,
        name=name,
        labels=labels,
        max_runs=max_runs,
        grace_period=grace_period,
        process_retries=process_retries,
        show_output=show_output,
        prestart=prestart,
        echo=log_line,
    )
    restore = install_signal_handlers(local)
    try:
        local.register()
        local.serve()
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        restore()
        local.client.close()


_console: Console | None = None


def log_line(line: str) -> None:
    """One timestamped line of what the agent does (text as is, no markup)."""
    global _console
    if _console is None:
        _console = Console(log_path=False)
    _console.log(Text(line))
