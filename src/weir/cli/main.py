"""The ``weir`` command: one Click group; each command group lives in its own module."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="weir")
def cli() -> None:
    """weir: workflow orchestration."""


def _register() -> None:
    # Each module below defines one command or group and is added here; keep
    # imports inside so `weir --help` stays fast.
    from weir.cli import commands

    for command in commands.all_commands():
        cli.add_command(command)


_register()


if __name__ == "__main__":  # `python -m weir.cli.main` is the command too
    cli()
