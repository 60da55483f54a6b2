"""What the API-talking commands share: --api-url/--api-key, a client, and Rich formatting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console

from weir.exceptions import ClientError

F = TypeVar("F", bound=Callable[..., Any])

console = Console()

#: Colours of the state types in the terminal (the UI keeps its own).
STATE_STYLES = {
    "Success": "green",
    "Cached": "green",
    "Mapped": "green",
    "Skipped": "dim green",
    "Failed": "red",
    "TriggerFailed": "red",
    "TimedOut": "red",
    "Cancelled": "yellow",
    "Cancelling": "yellow",
    "Running": "cyan",
    "Submitted": "blue",
    "Scheduled": "bright_black",
    "Pending": "bright_black",
    "Retrying": "magenta",
    "Looped": "cyan",
    "Paused": "yellow",
}


def api_options(command: F) -> F:
    """Add --api-url and --api-key (defaults: WEIR_API_URL, WEIR_API_KEY)."""
    command = click.option(
        "--api-key",
        envvar="WEIR_API_KEY",
        default=None,
        show_envvar=True,
        help="API key, when the server has auth on.",
    )(command)
    command = click.option(
        "--api-url",
        envvar="WEIR_API_URL",
        default=None,
        show_envvar=True,
        help="The server's API URL, or several servers' comma-separated (tried in turn when "
        "one cannot be reached) [default: http://127.0.0.1:4200/api/v1].",
    )(command)
    return command


@contextmanager
def api_client(api_url: str | None, api_key: str | None) -> Iterator[Any]:
    """A Client whose errors become clean CLI errors (no traceback)."""
    from weir.client import Client
    from weir.client.retrying import CLI_CALL

    try:
        with Client(api_url, api_key, policy=CLI_CALL) as client:
            yield client
    except ClientError as exc:
        # The reason alone, in the command line's terms: no HTTP method, path or status.
        raise click.ClickException(cli_wording(exc.detail)) from exc


def cli_wording(detail: str) -> str:
    """A server's reason with the API's field names as the options that set them."""
    import re

    detail = re.sub(r"\bparameters\.([\w-]+): ", r"--param \1=…: ", detail)
    detail = re.sub(r"`parameters`", "--param KEY=VALUE", detail)
    detail = re.sub(r"with `project`", "with --project NAME", detail)
    return detail


def when(seconds: float | None) -> str:
    """A time in this machine's zone, with the zone, so nobody guesses which one it is."""
    if seconds is None:
        return "-"
    return dt.datetime.fromtimestamp(seconds).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def state_text(state_type: Any) -> str:
    name = getattr(state_type, "value", str(state_type))
    style = STATE_STYLES.get(name, "white")
    return f"[{style}]{name}[/{style}]"
