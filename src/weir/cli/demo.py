"""``weir demo``: run the example flows locally and show what happened to each task."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from weir.cli.styles import state_text
from weir.engine.reporter import InMemoryReporter
from weir.storage.scripts import flows_in_script


@click.command("demo")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def demo(paths: tuple[Path, ...]) -> None:
    """Run the flows in PATHS (default: ./examples) locally, with a table of task states."""
    console = Console()
    scripts = _scripts(paths or (Path("examples"),))
    if not scripts:
        raise click.ClickException(
            "No flow scripts found; run `weir demo` from the weir checkout or name a script."
        )
    failed = 0
    for script in scripts:
        for flow in flows_in_script(script).values():
            reporter = InMemoryReporter()
            started = time.perf_counter()
            state = flow.run(run_on_schedule=False, reporter=reporter)
            elapsed = time.perf_counter() - started
            title = f"flow [bold]{flow.name}[/] ({script}) → {state.name} in {elapsed * 1e3:.1f} ms"
            table = Table(title=title, title_justify="left")
            table.add_column("task")
            table.add_column("slug", style="dim")
            table.add_column("state")
            table.add_column("runs", justify="right")
            table.add_column("result / message", overflow="fold")
            for task in flow.sorted_tasks():
                s = state.result[task]
                detail = repr(s.result) if s.is_successful() and s.result is not None else s.message
                history = reporter.task_states.get((flow.slugs[task], None), [])
                runs = sum(1 for h in history if h.name == "Running")
                table.add_row(
                    task.name, flow.slugs[task], state_text(s.name), str(runs), str(detail)[:80]
                )
            console.print(table)
            failed += not state.is_successful()
    if failed:
        raise SystemExit(1)


def _scripts(paths: tuple[Path, ...]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(p.glob("*.py")) if p.is_dir() else [p])
    return out
