"""``weir secret``: set, list and remove the secrets runs read (``PrefectSecret``)."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from weir.cli.api_options import api_client, api_options, console, when


@click.group("secret")
def secret() -> None:
    """Secrets runs read by name (``PrefectSecret("NAME")``), kept encrypted by the server."""


@secret.command("set")
@click.argument("name")
@click.argument("value", required=False)
@click.option(
    "--json", "as_json", is_flag=True, help="VALUE is JSON (an object, a list, a number)."
)
@api_options
def set_secret(
    name: str, value: str | None, as_json: bool, api_url: str | None, api_key: str | None
) -> None:
    """Set the secret NAME to VALUE (read from standard input when VALUE is left out or is -).

    Reading it from standard input keeps it out of your shell's history:
    `weir secret set DB_PASSWORD < password.txt`.
    """
    if value is None or value == "-":
        if sys.stdin.isatty():
            value = click.prompt(f"Value of {name}", hide_input=True)
        else:
            value = sys.stdin.read().rstrip("\n")
    stored: object = value
    if as_json:
        try:
            stored = json.loads(value)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not JSON ({exc}); drop --json to store it as text.") from exc
    with api_client(api_url, api_key) as client:
        row = client.set_secret(name, stored)
    console.print(f"Secret [bold]{row.name}[/bold] set.", highlight=False)


@secret.command("ls")
@api_options
def list_secrets(api_url: str | None, api_key: str | None) -> None:
    """List the secrets' names (never their values)."""
    with api_client(api_url, api_key) as client:
        rows = client.list_secrets()
    table = Table("NAME", "CREATED", "UPDATED")
    for row in rows:
        table.add_row(row.name, when(row.created), when(row.updated))
    console.print(table)


@secret.command("rm")
@click.argument("name")
@api_options
def remove_secret(name: str, api_url: str | None, api_key: str | None) -> None:
    """Remove the secret NAME: runs that read it fail until it is set again."""
    with api_client(api_url, api_key) as client:
        row = client.delete_secret(name)
    console.print(f"Removed the secret [bold]{row.name}[/bold].", highlight=False)
