"""Applying a state to a flow run: the one place a flow run's state changes.

Every write checks, in this order: the run exists (404), the caller's version
is the run's current version (409, nothing changes), and the move is in
``weir.state_types.ALLOWED_TRANSITIONS`` (409, naming the move). Then the run
takes the state, its version grows by one and the state joins its history.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from weir.exceptions import InvalidTransition
from weir.schemas.states import StateData
from weir.server.database import orm
from weir.server.database.engine import NEW_WORK
from weir.server.errors import Conflict
from weir.state_types import CLAIMABLE_TYPES, FINISHED_TYPES, StateType, check_transition

# A run handed back to waiting no longer belongs to the agent that claimed it.
_RELEASED_TYPES = CLAIMABLE_TYPES


def check_version(run: orm.FlowRun | orm.TaskRun, version: int, subject: str) -> None:
    if version != run.version:
        raise Conflict(
            f"{subject} is at version {run.version}, but the write was based on version "
            f"{version}; nothing was changed. Read the run again and retry with its version."
        )


def check_move(current: StateType, new: StateType, subject: str) -> None:
    try:
        check_transition(current, new, subject=subject)
    except InvalidTransition as exc:
        raise Conflict(str(exc), field="state.type") from exc


def state_row(run: orm.FlowRun, state: StateData) -> orm.FlowRunState:
    return orm.FlowRunState(
        flow_run_id=run.id,
        version=run.version,
        type=state.type,
        message=state.message,
        timestamp=state.timestamp,
        start_time=state.start_time,
        run_count=state.run_count,
        data=state.extra_data() or None,
    )


def mark_new_work(session: Session) -> None:
    """Say that this transaction makes a run claimable (created, or waiting again): the
    server wakes the claims waiting for work once it commits (``Database.on_new_work``)."""
    session.info[NEW_WORK] = True


def apply(session: Session, run: orm.FlowRun, state: StateData, now: float) -> None:
    """Give ``run`` the state (already checked), bump its version, record the history."""
    new = state.type
    run.version += 1
    run.state_type = new
    run.state_message = state.message
    run.state_timestamp = state.timestamp
    run.state_data = _row_data(state)
    if new in CLAIMABLE_TYPES:
        run.start_time = state.start_time if state.start_time is not None else now
        mark_new_work(session)
    if new in _RELEASED_TYPES:
        run.agent_id = None
    if new is StateType.RUNNING:
        run.run_count = state.run_count if state.run_count is not None else run.run_count + 1
        run.started_at = run.started_at or now
        run.heartbeat = now
    if new in FINISHED_TYPES:
        run.ended_at = now
    session.add(state_row(run, state))


def _row_data(state: StateData) -> dict[str, object] | None:
    data = state.extra_data()
    if state.start_time is not None:
        data["start_time"] = state.start_time
    if state.run_count is not None:
        data["run_count"] = state.run_count
    return data or None


def current_state(run: orm.FlowRun | orm.TaskRun) -> StateData:
    """The run's state as the API shows it, from the row's state columns."""
    data = dict(run.state_data or {})
    return StateData(
        type=run.state_type,
        message=run.state_message,
        timestamp=run.state_timestamp,
        **data,
    )


def history_item(row: orm.FlowRunState) -> StateData:
    return StateData(
        type=row.type,
        message=row.message,
        timestamp=row.timestamp,
        start_time=row.start_time,
        run_count=row.run_count,
        **(row.data or {}),
    )
