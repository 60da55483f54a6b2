"""``weir.tasks.weir.flow_run``: :mod:`weir.tasks.prefect.flow_run` under its renamed path."""

from __future__ import annotations

from weir.tasks.prefect.flow_run import (
    StartFlowRun,
    create_flow_run,
    get_task_run_result,
    wait_for_flow_run,
)

__all__ = ["StartFlowRun", "create_flow_run", "get_task_run_result", "wait_for_flow_run"]
