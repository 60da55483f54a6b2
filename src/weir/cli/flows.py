"""``weir flow``: list flows."""

from __future__ import annotations

import click
from rich.table import Table

from weir.cli.api_options import api_client, api_options, console, when


@click.group("flow")
def flow() -> None:
    """Flows registered with the server."""


@flow.command("ls")
@click.option("--project", default=None, help="Only this project's flows.")
@click.option("--all-versions", is_flag=True, help="Show archived versions too.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1000))
@api_options
def list_flows(
    project: str | None, all_versions: bool, limit: int, api_url: str | None, api_key: str | None
) -> None:
    """List flows (the newest version of each, unless --all-versions)."""
    with api_client(api_url, api_key) as client:
        flows = client.list_flows(project=project, include_archived=all_versions, limit=limit)
    table = Table("NAME", "VERSION", "PROJECT", "LABELS", "SCHEDULE", "REGISTERED")
    table.add_column("ID", no_wrap=True, min_width=36)
    for f in flows:
        schedule = ("on" if f.schedule_active else "off") if f.has_schedule else "-"
        name = f"[dim]{f.name}[/dim]" if f.archived else f.name
        table.add_row(
            name,
            str(f.version),
            f.project,
            ", ".join(f.labels),
            schedule,
            when(f.created),
            str(f.id),
        )
    console.print(table)
