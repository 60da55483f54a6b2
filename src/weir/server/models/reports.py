"""What a flow-run state write carries with it: task runs, log lines, trace events.

They are stored before the state, in a transaction of their own, so they are kept
even if the state is refused. A line or event whose value the database cannot
store (a DataError) must not cost the run its state: ``store(each=True)`` writes
them one by one, drops the ones refused and says so in the run's logs.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from weir.schemas import actions
from weir.server.models import bulk, logs, task_run_batches, traces

logger = logging.getLogger(__name__)


def store(
    session: Session, action: actions.FlowRunSetState, received: float, body: bytes, *, each: bool
) -> None:
    """Store the reports of ``action`` (``body``: the request, kept for its task runs)."""
    if action.task_runs:
        task_run_batches.store(session, action.task_runs, received, body)
    for what, write, items in (
        ("log lines", logs.write, action.logs or []),
        ("trace events", traces.write, action.trace or []),
    ):
        if not each:
            write(session, items)
            continue
        _, refused = bulk.write_each(session, items, write)
        if refused:
            index, reason = refused[0]
            message = (
                f"The server could not store {len(refused)} of the {what} sent with a state "
                f"and dropped them (item {index}: {reason})."
            )
            logger.error("%s", message)
            # A line of the run, not of a task.
            run_id = items[index].flow_run_id
            about = {
                "flow_run_id": run_id,
                "task_run_id": None,
                "task_slug": None,
                "map_index": None,
            }
            task_run_batches.server_lines(session, [about], received, logging.ERROR, [message])
