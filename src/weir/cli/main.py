"""The ``weir`` command: one Click group; each command group lives in its own module,
imported when the command is used (see ``weir.cli.commands``)."""

from __future__ import annotations

import click

from weir.cli.commands import LazyGroup


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="weir")
def cli() -> None:
    """weir: workflow orchestration."""


if __name__ == "__main__":  # `python -m weir.cli.main` is the command too
    cli()
