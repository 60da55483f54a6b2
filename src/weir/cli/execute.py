"""``weir execute flow-run ID``: what an agent starts for each flow run."""

from __future__ import annotations

import click


@click.group("execute")
def execute() -> None:
    """Run work handed out by the server (used by agents)."""


@execute.command("flow-run")
@click.argument("flow_run_id")
def flow_run(flow_run_id: str) -> None:
    """Load the run's flow from its storage and run it, reporting to the server."""
    from weir.execution.flow_run import main

    raise SystemExit(main(flow_run_id))
