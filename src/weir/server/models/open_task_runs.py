"""Task runs left open in a flow run that someone other than its process ended.

A flow run's process writes its task runs' last states before the run's own,
so a run it ends has no task run still going. A run ended from outside — by
lazarus (no heartbeat), by its agent (the process crashed for the last time),
by a cancellation of a run whose process is gone, or by hand — may have task
runs left Running (or Submitted, Pending) that nobody will ever finish. They
are closed with the run: Cancelled in a Cancelled run, Failed otherwise, with
a message saying why. The run's stored task-run batches are written first, so
that a Success the process reported before it went still lands, and lands
before the close (which then leaves that task run alone).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from weir.schemas.states import RESUME_FIELD, StateData
from weir.server.database import orm
from weir.server.models import task_run_batches, task_runs
from weir.state_types import UNFINISHED_TYPES, UNSUCCESSFUL_TYPES, StateType

#: Flow-run states in UNSUCCESSFUL_TYPES close the task runs left open (a Success set
#: by hand does not): every task run not finished then, since nobody finishes it once
#: its flow run's process is gone (one left Retrying or Paused stayed open for ever).
OPEN_TYPES = sorted(UNFINISHED_TYPES)


def close(session: Session, run: orm.FlowRun, now: float) -> int:
    """Finish the run's open task runs as its new (closing) state says; how many."""
    if run.state_type not in UNSUCCESSFUL_TYPES:
        return 0
    task_run_batches.write(session, now)  # what the process reported lands first
    query = (
        select(orm.TaskRun)
        .where(orm.TaskRun.flow_run_id == run.id, orm.TaskRun.state_type.in_(OPEN_TYPES))
        .with_for_update()
    )
    new = StateType.CANCELLED if run.state_type is StateType.CANCELLED else StateType.FAILED
    why = (run.state_message or "").split("\n", 1)[0]
    closed = 0
    for task_run in session.scalars(query):
        state = StateData(
            type=new,
            message=f"Its flow run ended {run.state_type.value} while this task run was "
            f"{task_run.state_type.value}, so it will not finish: {why}",
            timestamp=now,
        )
        task_runs.move(task_run, state, now)
        closed += 1
    session.flush()
    return closed


def approve_paused(session: Session, run: orm.FlowRun, now: float) -> int:
    """Approve the run's Paused task runs (Scheduled, marked ``RESUME_FIELD``); how many."""
    task_run_batches.write(session, now)  # the Paused states the process reported
    query = (
        select(orm.TaskRun)
        .where(orm.TaskRun.flow_run_id == run.id, orm.TaskRun.state_type == StateType.PAUSED)
        .with_for_update()
    )
    approved = 0
    for task_run in session.scalars(query):
        state = StateData.model_validate(
            {
                "type": StateType.SCHEDULED,
                "message": "Approved: runs when its flow run resumes.",
                "timestamp": now,
                RESUME_FIELD: True,
            }
        )
        task_runs.move(task_run, state, now)
        approved += 1
    session.flush()
    return approved
