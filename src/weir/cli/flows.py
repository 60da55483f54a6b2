"""``weir flow``: list flows, show one, switch its schedule, archive it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from weir.cli.api_options import api_client, api_options, console, state_text, when

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


_project_option = click.option(
    "--project", default=None, help="The flow's project, when several have the name."
)


@flow.command("show")
@click.argument("flow")
@_project_option
@api_options
def show(flow: str, project: str | None, api_url: str | None, api_key: str | None) -> None:
    """Show FLOW (a name or a version's id): its parameters, schedule and latest runs."""
    with api_client(api_url, api_key) as client:
        found = client.get_flow(_current_version(client, flow, project).id)
        runs = client.list_flow_runs(flow_id=[found.id], limit=SHOWN_RUNS)
    graph = found.serialized_flow
    console.print(
        f"[bold]{found.name}[/bold] v{found.version} in project {found.project} ({found.id})"
        + (" [dim](archived)[/dim]" if found.archived else "")
    )
    storage = (found.storage or {}).get("type", "none")
    console.print(
        f"tasks: {len(graph.get('tasks') or [])}  labels: {', '.join(found.labels) or '-'}  "
        f"storage: {storage}  registered: {when(found.created)}"
    )
    parameters = graph.get("parameters") or []
    if parameters:
        table = Table("PARAMETER", "DEFAULT", "REQUIRED", title="Parameters")
        for p in parameters:
            table.add_row(
                p.get("name", "?"), repr(p.get("default")), "yes" if p.get("required") else ""
            )
        console.print(table)
    _print_schedule(found, graph.get("schedule"))
    if runs:
        table = Table("RUN", "STATE", "SCHEDULED", "ID", title=f"Latest runs ({len(runs)})")
        for r in runs:
            table.add_row(r.name, state_text(r.state.type), when(r.scheduled_start_time), str(r.id))
        console.print(table)
    else:
        console.print("No runs yet: `weir run " + found.name + "` starts one.")


#: How many of a flow's runs ``weir flow show`` lists.
SHOWN_RUNS = 10


def _print_schedule(found: Any, data: dict[str, Any] | None) -> None:
    if not data:
        console.print("schedule: none")
        return
    from weir.schedules.serialize import schedule_from_dict

    state = "on" if found.schedule_active else "off (`weir flow schedule on` starts it)"
    clocks = ", ".join(_clock_text(c) for c in data.get("clocks") or []) or "no clocks"
    console.print(f"schedule: {state}; {clocks}")
    upcoming = schedule_from_dict(data).next(3)
    if upcoming and found.schedule_active:
        console.print("next: " + ", ".join(when(at.timestamp()) for at in upcoming))


def _clock_text(clock: dict[str, Any]) -> str:
    kind = clock.get("type", "?")
    if "cron" in clock:
        return f"{kind} {clock['cron']!r}"
    if "interval" in clock:
        return f"{kind} every {clock['interval']} s"
    return kind


@flow.command("schedule")
@click.argument("switch", type=click.Choice(["on", "off"]))
@click.argument("flow")
@_project_option
@api_options
def schedule(
    switch: str, flow: str, project: str | None, api_url: str | None, api_key: str | None
) -> None:
    """Turn FLOW's schedule on or off (off: its scheduled runs that have not started go)."""
    with api_client(api_url, api_key) as client:
        found = _current_version(client, flow, project)
        if not found.has_schedule:
            raise click.ClickException(
                f"Flow {found.name} v{found.version} has no schedule; give it one in its "
                "script (Flow(..., schedule=...)) and register it again."
            )
        updated = client.set_schedule_active(found.id, switch == "on")
    console.print(
        f"The schedule of flow {updated.name} v{updated.version} is {switch}"
        + ("." if switch == "on" else "; its scheduled runs that had not started are gone.")
    )


@flow.command("backfill")
@click.argument("flow")
@click.option("--start", required=True, help="The window's start: an ISO 8601 time (no zone: UTC).")
@click.option("--end", required=True, help="The window's end, included; ISO 8601.")
@_project_option
@api_options
def backfill(
    flow: str,
    start: str,
    end: str,
    project: str | None,
    api_url: str | None,
    api_key: str | None,
) -> None:
    """Make the runs FLOW's schedule would have made between --start and --end.

    As Airflow's backfill: each scheduled time in the window gets its run, with the
    schedule's parameters and labels; a time that has its run already (the
    scheduler's, or an earlier backfill's) keeps it, so backfilling again is safe.
    Agents then run them, oldest first.
    """
    begin, finish = _instant(start, "--start"), _instant(end, "--end")
    with api_client(api_url, api_key) as client:
        found = _current_version(client, flow, project)
        if not found.has_schedule:
            raise click.ClickException(
                f"Flow {found.name} v{found.version} has no schedule, so there is nothing to "
                "backfill; `weir run` starts one run."
            )
        done = client.backfill_flow(found.id, begin, finish)
    console.print(
        f"Backfilled flow {found.name} from {when(begin)} to {when(finish)}: "
        f"{done.created} runs created, {done.existing} already there.",
        highlight=False,
    )


def _instant(text: str, option: str) -> float:
    """An ISO 8601 time as seconds; no zone means UTC."""
    import datetime as dt

    try:
        # Python 3.10's fromisoformat does not read a trailing Z.
        moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time; write e.g. 2026-12-01 or 2026-12-01T06:00:00Z.",
            param_hint=option,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()
