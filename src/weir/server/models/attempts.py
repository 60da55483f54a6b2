"""Attempts: the fence that keeps a taken-over flow-run process from writing.

Every claim gives a run a new attempt number (``flow_run.attempt``). The process
an agent starts for the run sends that number with each of its writes
(``weir.schemas.actions.ATTEMPT_HEADER``). A write whose attempt is not the
run's current one comes from a process whose run was rescheduled and claimed
again (it was paused, cut off, or presumed dead): it is refused whole with 409
and ``"field": "attempt"``, and nothing of it is written, so two processes of
one run can never both write its states. Writes without an attempt (an agent,
the CLI, the UI) are not fenced; they carry the run's version instead.

Fenced: flow-run state writes, heartbeats, task-run batches (checked when they
arrive, also those stored to be written later) and single task-run state
writes. Log lines and trace events are not: they are the history of what a
process did, and are kept whichever attempt sent them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from weir.server.database import orm
from weir.server.errors import Conflict
from weir.server.models import known_to_exist

#: The ``field`` of a 409 that refused a write from an older attempt.
FIELD = "attempt"


def superseded(run_id: uuid.UUID, current: int, attempt: int) -> Conflict:
    """The refusal of a write from ``attempt`` to a run now at attempt ``current``."""
    if attempt < current:
        why = f"was taken over by attempt {current}; this write came from attempt {attempt}"
    else:
        why = f"is at attempt {current}, not {attempt}"
    return Conflict(
        f"Flow run {run_id} {why} and was refused, nothing was changed. Another process "
        "runs the flow run now: this one must stop.",
        field=FIELD,
    )


def check(run: orm.FlowRun, attempt: int | None) -> None:
    """Refuse a write from ``attempt`` unless it is the run's current one (None: not fenced)."""
    if attempt is not None and attempt != run.attempt:
        raise superseded(run.id, run.attempt, attempt)


def check_runs(session: Session, run_ids: Iterable[uuid.UUID], attempt: int | None) -> None:
    """Refuse a batch from ``attempt`` when a run it names is at another attempt.

    The runs are not locked: a claim may take the run over just after this check,
    and the batch still lands. That is harmless: its states are of tasks that
    attempt ran while it held the run, and they are written before the new attempt
    reads the run's task runs to resume. (A lock here would make concurrent claims,
    which skip locked runs, pass over a run for as long as its process sends batches.)
    """
    if attempt is None:
        return
    found = session.execute(_ATTEMPTS, {"ids": list(set(run_ids))}).all()
    for run_id, current in found:
        if current != attempt:
            raise superseded(run_id, current, attempt)
    known_to_exist(session, (run_id for run_id, _ in found))


#: The runs' current attempts (``ids``), built once for the batches that check them.
_ATTEMPTS = select(orm.FlowRun.id, orm.FlowRun.attempt).where(
    orm.FlowRun.id.in_(bindparam("ids", expanding=True))
)
