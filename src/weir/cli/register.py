"""``weir register PATH...``: register every flow the scripts (and folders of scripts) define."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from weir.cli.api_options import api_client, api_options, console
from weir.exceptions import FlowValidationError, StorageError


@dataclass
class _Outcome:
    """One flow's registration, or why it failed."""

    script: Path
    flow: str
    registration: Any = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"script": str(self.script), "flow": self.flow}
        if self.error is not None:
            return {**out, "error": self.error}
        result = self.registration
        return {
            **out,
            "id": result.flow_id,
            "version": result.version,
            "project": result.project,
            "created": result.created,
        }


@click.command("register")
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path),
)
@click.option("--project", "-p", default="default", show_default=True, help="Project to use.")
@click.option("--label", "-l", "labels", multiple=True, help="A label for the flows' runs.")
@click.option("--name", "-n", "names", multiple=True, help="Only the flow(s) of this name.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON, for scripts.")
@api_options
def register(
    paths: tuple[Path, ...],
    project: str,
    labels: tuple[str, ...],
    names: tuple[str, ...],
    as_json: bool,
    api_url: str | None,
    api_key: str | None,
) -> None:
    """Register the flows the scripts at PATHS define.

    A folder stands for every ``*.py`` file directly in it (as ``prefect register
    --path DIR`` did). A flow that sets its own storage keeps it; the others get
    Local storage pointing at their script's absolute path. An unchanged flow makes
    no new version. A script that fails to load is reported, and the others are
    still registered; the command then exits with 1.
    """
    scripts = _scripts(paths)
    found, outcomes = _load(scripts, explicit=set(p.resolve() for p in paths if p.is_file()))
    chosen = _choose(found, names)
    with api_client(api_url, api_key) as client:
        for script, name, flow in chosen:
            outcomes.append(_register_one(client, script, name, flow, project, labels))
    _report(outcomes, as_json)
    if any(o.error is not None for o in outcomes):
        raise SystemExit(1)


def _scripts(paths: tuple[Path, ...]) -> list[Path]:
    """Every script the paths name, once each, in the order given (a folder's sorted)."""
    seen: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            for script in sorted(path.glob("*.py")):
                seen.setdefault(script.resolve(), None)
        else:
            seen.setdefault(path.resolve(), None)
    if not seen:
        raise click.ClickException(
            f"There is no Python script in {', '.join(map(str, paths))}; give a script or a "
            "folder that holds one."
        )
    return list(seen)


def _load(
    scripts: list[Path], explicit: set[Path]
) -> tuple[list[tuple[Path, str, Any]], list[_Outcome]]:
    """The flows of each script; a script that failed to load becomes an outcome."""
    from weir.storage.scripts import flows_in_script

    found: list[tuple[Path, str, Any]] = []
    failed: list[_Outcome] = []
    for script in scripts:
        try:
            flows = flows_in_script(script)
        except StorageError as exc:
            failed.append(_Outcome(script, "-", error=str(exc)))
            continue
        if not flows and script in explicit:
            failed.append(
                _Outcome(
                    script,
                    "-",
                    error=f"The script {script} defines no flow at module level; assign each "
                    "Flow to a global name (e.g. `flow = Flow(...)` or `with Flow(...) as flow:`).",
                )
            )
        found.extend((script, name, flow) for name, flow in flows.items())
    if not found and not failed:
        raise click.ClickException(
            "No script given defines a flow at module level; assign each Flow to a global "
            "name (e.g. `flow = Flow(...)` or `with Flow(...) as flow:`)."
        )
    return found, failed


def _choose(found: list[tuple[Path, str, Any]], names: tuple[str, ...]) -> list[Any]:
    if not names:
        return found
    defined = {name for _, name, _ in found}
    unknown = sorted(set(names) - defined)
    if unknown:
        where = "The script" if len({s for s, _, _ in found}) == 1 else "The scripts"
        scripts = ", ".join(sorted({str(s) for s, _, _ in found}))
        raise click.ClickException(
            f"{where} {scripts} define{'s' if where == 'The script' else ''} no flow named "
            f"{', '.join(map(repr, unknown))}; "
            f"{'it defines' if where == 'The script' else 'they define'} "
            f"{', '.join(map(repr, sorted(defined)))}."
        )
    return [item for item in found if item[1] in names]


def _register_one(
    client: Any, script: Path, name: str, flow: Any, project: str, labels: tuple[str, ...]
) -> _Outcome:
    from weir.registration import register_flow
    from weir.storage import Local

    storage = flow.storage if flow.storage is not None else Local(path=script)
    try:
        result = register_flow(flow, project, labels, client=client, storage=storage, source=script)
    except (StorageError, FlowValidationError) as exc:
        return _Outcome(script, name, error=f"Flow '{name}' was not registered: {exc}")
    return _Outcome(script, name, registration=result)


def _report(outcomes: list[_Outcome], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([o.as_json() for o in outcomes], indent=2))
        return
    table = Table("FLOW", "VERSION", "STATUS", "PROJECT")
    table.add_column("ID", no_wrap=True, min_width=36)
    several = len({o.script for o in outcomes}) > 1
    if several:
        table.add_column("SCRIPT")
    for o in outcomes:
        if o.error is not None:
            continue
        result = o.registration
        status = "[green]new[/green]" if result.created else "[dim]unchanged[/dim]"
        row = [o.flow, str(result.version), status, result.project, str(result)]
        table.add_row(*row, *([o.script.name] if several else []))
    if table.row_count:
        console.print(table)
    for o in outcomes:
        if o.error is not None:
            console.print(f"[red]Error:[/red] {o.error}", highlight=False, soft_wrap=True)
