"""``weir.tasks.weir``: the flows-of-flows tasks of :mod:`weir.tasks.prefect`, again.

A blanket ``prefect`` -> ``weir`` rename of Prefect 1 code turns
``prefect.tasks.prefect`` into ``weir.tasks.weir``; both paths give the same tasks.
"""

from __future__ import annotations

from weir.tasks.prefect import StartFlowRun, create_flow_run, get_task_run_result, wait_for_flow_run

__all__ = ["StartFlowRun", "create_flow_run", "get_task_run_result", "wait_for_flow_run"]
