"""The list of the CLI's commands; add a line here when adding a command module.

A command's module is imported only when that command runs (or ``weir --help``
lists them all): `weir server start` does not load what `weir demo` or `weir agent`
need, and every command starts sooner.
"""

from __future__ import annotations

import importlib

import click

# name -> (module, attribute) of every top-level command or group.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("weir.cli.demo", "demo"),
    "execute": ("weir.cli.execute", "execute"),
    "server": ("weir.cli.server", "server"),
    "flow": ("weir.cli.flows", "flow"),
    "register": ("weir.cli.register", "register"),
    "flow-run": ("weir.cli.flow_runs", "flow_run"),
    "run": ("weir.cli.flow_runs", "run"),
    "concurrency-limit": ("weir.cli.concurrency", "concurrency_limit"),
    "secret": ("weir.cli.secrets", "secret"),
    "agent": ("weir.cli.agent", "agent"),
    "up": ("weir.cli.up", "up"),
}


def load(name: str) -> click.Command | None:
    """The command called ``name``, its module imported now; None when there is none."""
    if name not in COMMANDS:
        return None
    module, attribute = COMMANDS[name]
    command: click.Command = getattr(importlib.import_module(module), attribute)
    return command


def all_commands() -> list[click.Command]:
    return [command for name in COMMANDS if (command := load(name)) is not None]


class LazyGroup(click.Group):
    """A group whose commands are the ``COMMANDS`` above, each imported when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or load(cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a mistake of the user's that a command let through (a value
        the API's models refuse, a setting weir refuses) is an error message, never a
        traceback."""
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as exc:
            message = user_error(exc)
            if message is None:
                raise
            raise click.ClickException(message) from exc


def user_error(exc: BaseException) -> str | None:
    """What to tell the user about ``exc`` when it is their mistake, else None."""
    from pydantic import ValidationError

    from weir.client.client import field_errors
    from weir.exceptions import WeirError

    if isinstance(exc, ValidationError):
        return f"Invalid {exc.title}: {field_errors(exc.errors())}"
    if isinstance(exc, WeirError):
        return str(exc)
    return None
