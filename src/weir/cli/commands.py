"""The list of the CLI's commands; add a line here when adding a command module."""

from __future__ import annotations

import importlib

import click

# (module, attribute) of every top-level command or group.
COMMANDS: list[tuple[str, str]] = [
    ("weir.cli.demo", "demo"),
    ("weir.cli.execute", "execute"),
    ("weir.cli.server", "server"),
    ("weir.cli.flows", "flow"),
    ("weir.cli.register", "register"),
    ("weir.cli.flow_runs", "flow_run"),
    ("weir.cli.flow_runs", "run"),
    ("weir.cli.concurrency", "concurrency_limit"),
    ("weir.cli.secrets", "secret"),
    ("weir.cli.agent", "agent"),
    ("weir.cli.up", "up"),
]


def all_commands() -> list[click.Command]:
    return [getattr(importlib.import_module(m), a) for m, a in COMMANDS]
