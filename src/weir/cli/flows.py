"""``weir flow``: list flows, archive one."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from weir.cli.api_options import api_client, api_options, console, when

if TYPE_CHECKING:  # imported lazily at run time, to keep `weir --help` fast
    from weir.client import Client


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


@flow.command("rm")
@click.argument("flow")
@click.option("--project", default=None, help="The flow's project, when several have the name.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@api_options
def archive(
    flow: str, project: str | None, yes: bool, api_url: str | None, api_key: str | None
) -> None:
    """Archive FLOW (a name or a version's id): it is no longer scheduled.

    Its scheduled runs that have not started are deleted; its past runs and their
    logs stay until the server's retention removes them. Needs an admin key when
    auth is on.
    """
    with api_client(api_url, api_key) as client:
        found = _current_version(client, flow, project)
        console.print(
            f"Flow [bold]{found.name}[/bold] v{found.version} in project {found.project} "
            f"({found.id})."
        )
        if not yes:
            click.confirm(
                "Archive it? It stops being scheduled and its runs that have not started "
                "are deleted",
                abort=True,
            )
        archived = client.archive_flow(found.id)
    console.print(f"Archived flow {archived.name} v{archived.version} ({archived.id}).")


def _current_version(client: Client, flow: str, project: str | None) -> Any:
    """The flow version ``flow`` names: an id, else the current version of that name."""
    try:
        return client.get_flow(uuid.UUID(flow))
    except ValueError:
        pass
    found = client.list_flows(name=flow, project=project)
    projects = sorted({f.project for f in found})
    if not found:
        where = f" in project {project!r}" if project else ""
        raise click.ClickException(
            f"There is no current flow called {flow!r}{where}; `weir flow ls` lists them."
        )
    if len(projects) > 1:
        raise click.ClickException(
            f"Several projects have a flow called {flow!r} ({', '.join(projects)}); "
            "say which with --project."
        )
    return max(found, key=lambda f: f.version)
