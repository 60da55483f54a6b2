"""``weir register PATH``: register every flow a script defines."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from weir.cli.api_options import api_client, api_options, console
from weir.exceptions import FlowValidationError, StorageError


@click.command("register")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", "-p", default="default", show_default=True, help="Project to use.")
@click.option("--label", "-l", "labels", multiple=True, help="A label for the flows' runs.")
@click.option("--name", "-n", "names", multiple=True, help="Only the flow(s) of this name.")
@api_options
def register(
    path: Path,
    project: str,
    labels: tuple[str, ...],
    names: tuple[str, ...],
    api_url: str | None,
    api_key: str | None,
) -> None:
    """Register the flows the script at PATH defines.

    A flow that sets its own storage keeps it; the others get Local storage
    pointing at the script's absolute path. An unchanged flow makes no new version.
    """
    from weir.registration import register_flow
    from weir.storage import Local
    from weir.storage.scripts import flows_in_script

    script = path.resolve()
    try:
        flows = flows_in_script(script)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from exc
    chosen = _choose(flows, names, script)
    table = Table("FLOW", "VERSION", "STATUS", "PROJECT")
    table.add_column("ID", no_wrap=True, min_width=36)
    with api_client(api_url, api_key) as client:
        for name, flow in chosen.items():
            storage = flow.storage if flow.storage is not None else Local(path=script)
            try:
                result = register_flow(
                    flow, project, labels, client=client, storage=storage, source=script
                )
            except (StorageError, FlowValidationError) as exc:
                raise click.ClickException(f"Flow '{name}' was not registered: {exc}") from exc
            status = "[green]new[/green]" if result.created else "[dim]unchanged[/dim]"
            table.add_row(name, str(result.version), status, result.project, str(result))
    console.print(table)


def _choose(flows: dict, names: tuple[str, ...], script: Path) -> dict:
    if not flows:
        raise click.ClickException(
            f"The script {script} defines no flow at module level; assign each Flow to a "
            "global name (e.g. `flow = Flow(...)` or `with Flow(...) as flow:`)."
        )
    if not names:
        return flows
    unknown = sorted(set(names) - set(flows))
    if unknown:
        raise click.ClickException(
            f"The script {script} defines no flow named {', '.join(map(repr, unknown))}; "
            f"it defines {', '.join(map(repr, sorted(flows)))}."
        )
    return {n: f for n, f in flows.items() if n in names}
