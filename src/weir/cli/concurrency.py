"""``weir concurrency-limit``: cap how many task runs with a tag run at once, across all runs."""

from __future__ import annotations

import click
from rich.table import Table

from weir.cli.api_options import api_client, api_options, console, when


@click.group("concurrency-limit")
def concurrency_limit() -> None:
    """Limits on how many task runs with a tag run at once, across every flow run."""


@concurrency_limit.command("set")
@click.argument("tag")
@click.argument("limit", type=click.IntRange(0, 1_000_000))
@api_options
def set_limit(tag: str, limit: int, api_url: str | None, api_key: str | None) -> None:
    """Let at most LIMIT task runs tagged TAG run at once (0 holds them all back)."""
    with api_client(api_url, api_key) as client:
        row = client.set_concurrency_limit(tag, limit)
    console.print(
        f"Tag [bold]{row.tag}[/bold]: at most {row.limit} task runs at once "
        f"({row.active_slots} running now).",
        highlight=False,
    )


@concurrency_limit.command("ls")
@api_options
def list_limits(api_url: str | None, api_key: str | None) -> None:
    """List the limits and how many of each tag's slots are in use."""
    with api_client(api_url, api_key) as client:
        rows = client.list_concurrency_limits()
    table = Table("TAG", "LIMIT", "IN USE", "SET")
    for row in rows:
        table.add_row(row.tag, str(row.limit), str(row.active_slots), when(row.updated))
    console.print(table)


@concurrency_limit.command("rm")
@click.argument("tag")
@api_options
def remove_limit(tag: str, api_url: str | None, api_key: str | None) -> None:
    """Remove the limit on TAG: its task runs no longer wait for a slot."""
    with api_client(api_url, api_key) as client:
        row = client.delete_concurrency_limit(tag)
    console.print(f"Removed the limit of {row.limit} on tag [bold]{row.tag}[/bold].")
