"""``weir.tasks.prefect``: flows of flows — tasks that start, wait for and read other runs.

Prefect 1's ``prefect.tasks.prefect``, against the weir server:

- ``create_flow_run``: start a run of a registered flow (by name and project, or
  id); a retried task (or a rescheduled parent run) finds the run it started
  the first time instead of starting a second (its task run id is the
  idempotency key).
- ``wait_for_flow_run``: wait for a run to finish, logging its states (and its
  logs, if asked); cancelling the waiting run cancels the one it waits for.
- ``get_task_run_result``: a task's result in another run (by task slug and map
  index), read from where that run checkpointed it.
- ``StartFlowRun``: the older class that creates and (with ``wait=True``) waits.

Each of them can be mapped: ``create_flow_run.map(parameters=[...])`` starts one
run per item. The runs started record their parent run and task run, which
``weir flow-run show``, the UI and the parent's trace show.
"""

from __future__ import annotations

from weir.tasks.prefect.flow_run import (
    StartFlowRun,
    create_flow_run,
    get_task_run_result,
    wait_for_flow_run,
)

__all__ = ["StartFlowRun", "create_flow_run", "get_task_run_result", "wait_for_flow_run"]


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
