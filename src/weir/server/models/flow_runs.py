"""Flow runs: creation (parameters checked), reads, filters, state writes, cancellation.

A run starts ``Scheduled`` at version 1. Its labels are kept twice: as a JSON
list to show, and one ``flow_run_label`` row each so that a claim can ask "are
all of this run's labels among the agent's?" in SQL on both databases.
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

from sqlalchemy import Select, String, bindparam, cast, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from weir.schemas import actions, filters, responses
from weir.schemas.states import StateData
from weir.server.database import orm
from weir.server.errors import Conflict, NotFound, Unprocessable
from weir.server.models import attempts, flows, open_task_runs, projects, states, traces
from weir.state_types import CLAIMABLE_TYPES, FINISHED_TYPES, RESTARTABLE_TYPES, StateType


def fill_parameters(serialized_flow: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The run's parameters: ``given`` checked against the flow's and defaults filled in."""
    declared = {
        p.get("name"): p for p in serialized_flow.get("parameters") or [] if isinstance(p, dict)
    }
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(str(n) for n in declared)) or "none"
        raise Unprocessable(
            f"The flow {serialized_flow.get('name')!r} has no parameter {unknown[0]!r} "
            f"(its parameters: {known}); remove it or fix its name.",
            field=f"parameters.{unknown[0]}",
        )
    filled = dict(given)
    for name, spec in declared.items():
        if name in filled:
            continue
        if spec.get("required"):
            raise Unprocessable(
                f"The flow {serialized_flow.get('name')!r} needs a value for its required "
                f"parameter {name!r}; pass it in `parameters`.",
                field=f"parameters.{name}",
            )
        filled[name] = spec.get("default")
    return filled


def _existing(session: Session, flow: orm.Flow, key: str) -> orm.FlowRun | None:
    """The run made with idempotency ``key`` for any version of ``flow``: a key names
    one run of the flow, so a request sent again after the flow was registered anew
    (a backfill run twice, a client retrying) finds it instead of making another."""
    versions = select(orm.Flow.id).where(*flows.group(flow.project_id, flow.name))
    query = (
        select(orm.FlowRun)
        .where(orm.FlowRun.flow_id.in_(versions), orm.FlowRun.idempotency_key == key)
        .order_by(orm.FlowRun.created)
        .limit(1)
    )
    return session.scalar(query)


def _found(session: Session, run: orm.FlowRun, asked: orm.Flow) -> Created:
    """A run found by its idempotency key, named with the version it runs (an earlier
    version than the one asked for, when the flow was registered anew since)."""
    version = asked.version
    if run.flow_id != asked.id:
        version = flows.read(session, run.flow_id, graph=False).version
    return Created(run, False, asked.name, version)


class Created(NamedTuple):
    """A run ``create`` made (``created``) or found by its idempotency key, with its
    flow's name and version, as its answer names them."""

    run: orm.FlowRun
    created: bool
    flow_name: str
    flow_version: int

    def response(self) -> responses.FlowRun:
        return to_response(self.run, self.flow_name, self.flow_version)


def create(
    session: Session, action: actions.FlowRunCreate, now: float, *, auto_scheduled: bool = False
) -> Created:
    """Create a run (or find the one with the same idempotency key)."""
    if action.flow_id is not None:
        flow = flows.read(session, action.flow_id, graph=False)
        if action.project is not None:
            project = projects.read(session, flow.project_id).name
            if project != action.project:
                raise Unprocessable(
                    f"Flow {flow.name!r} ({flow.id}) is in project {project!r}, not "
                    f"{action.project!r}; give the right project, or leave it out.",
                    field="project",
                )
    else:
        assert action.flow_name is not None
        flow = flows.read_by_name(session, action.flow_name, action.project, graph=False)
    if action.idempotency_key is not None:
        found = _existing(session, flow, action.idempotency_key)
        if found is not None:
            return _found(session, found, flow)
    if flow.archived:
        # As in Prefect 1: an archived version takes no new run.
        newer = "" if action.flow_id is None else " (a newer version may be registered)"
        raise Conflict(
            f"Flow {flow.name!r} v{flow.version} is archived{newer}; it takes no new run. "
            "Run its current version, or register the flow again.",
            field="flow_id" if action.flow_id is not None else "flow_name",
        )
    declared = {"name": flow.name, "parameters": flows.declared_parameters(session, flow.id)}
    parameters = fill_parameters(declared, action.parameters)
    parent = _parent(session, action)
    start = action.scheduled_start_time if action.scheduled_start_time is not None else now
    labels = sorted(set(action.labels if action.labels is not None else flow.labels))
    run_id = uuid.uuid4()
    state = StateData(
        type=StateType.SCHEDULED,
        message="Scheduled by the scheduler." if auto_scheduled else "Created.",
        timestamp=now,
        start_time=start,
    )
    run = orm.FlowRun(
        id=run_id,
        flow_id=flow.id,
        name=action.name or f"{flow.name}-{run_id.hex[:8]}",
        parameters=parameters,
        context=action.context,
        labels=labels,
        idempotency_key=action.idempotency_key,
        auto_scheduled=auto_scheduled,
        scheduled_start_time=start,
        start_time=start,
        state_type=StateType.SCHEDULED,
        state_message=state.message,
        state_timestamp=now,
        state_data={"start_time": start},
        version=1,
        run_count=0,
        cancel_requested=False,
        lazarus_count=0,
        attempt=0,
        parent_flow_run_id=action.parent_flow_run_id,
        parent_task_run_id=action.parent_task_run_id,
    )
    if action.idempotency_key is None:
        session.add(run)
        session.flush()
    else:
        try:
            # A savepoint, so that losing an idempotency race leaves the transaction usable.
            with session.begin_nested():
                session.add(run)
                session.flush()
        except IntegrityError:
            found = _existing(session, flow, action.idempotency_key)
            if found is None:
                raise
            return _found(session, found, flow)
    session.add_all(orm.FlowRunLabel(flow_run_id=run_id, label=label) for label in labels)
    session.add(states.state_row(run, state))
    states.mark_new_work(session)
    traces.record(
        session,
        run_id,
        "created",
        now,
        {
            "flow_id": str(flow.id),
            "scheduled_start_time": start,
            "auto_scheduled": auto_scheduled,
            **({"parent_flow_run_id": str(parent.id)} if parent is not None else {}),
        },
    )
    if parent is not None:
        # The parent's trace says which run it started, and from which task run.
        traces.record(
            session,
            parent.id,
            "child_flow_run_created",
            now,
            {
                "child_flow_run_id": str(run_id),
                "name": run.name,
                "flow": flow.name,
                "task_run_id": str(action.parent_task_run_id or ""),
            },
        )
    return Created(run, True, flow.name, flow.version)


def _parent(session: Session, action: actions.FlowRunCreate) -> orm.FlowRun | None:
    """The run named as this one's parent; a 422 naming the field if there is none."""
    if action.parent_flow_run_id is None:
        if action.parent_task_run_id is not None:
            raise Unprocessable(
                "parent_task_run_id was given without parent_flow_run_id; give the run "
                "it belongs to as well.",
                field="parent_flow_run_id",
            )
        return None
    parent = session.get(orm.FlowRun, action.parent_flow_run_id)
    if parent is None:
        raise Unprocessable(
            f"There is no flow run with id {action.parent_flow_run_id} to be this run's "
            "parent; give the id of a run that exists, or leave parent_flow_run_id out.",
            field="parent_flow_run_id",
        )
    return parent


def read(session: Session, run_id: uuid.UUID, *, for_update: bool = False) -> orm.FlowRun:
    run = session.scalar(_READ_FOR_UPDATE if for_update else _READ, {"id": run_id})
    if run is None:
        raise NotFound(f"There is no flow run with id {run_id}; `weir flow-run ls` lists them.")
    return run


#: A run by id (built once: every state write and watcher's poll reads one).
_READ = select(orm.FlowRun).where(orm.FlowRun.id == bindparam("id"))
# FOR NO KEY UPDATE on PostgreSQL: task runs written meanwhile (whose foreign key takes a
# KEY SHARE lock on the run) need not wait, so a write that writes the stored batches
# under this lock cannot deadlock with the batch writer.
_READ_FOR_UPDATE = _READ.with_for_update(key_share=True)


def _filtered(session: Session, query: Select[Any], flt: filters.FlowRunFilter) -> Select[Any]:
    run = orm.FlowRun
    if flt.flow_id:
        query = query.where(run.flow_id.in_(flt.flow_id))
    if flt.flow_name is not None:
        # The flow's ids first: the database then reads that flow's runs by the index on
        # (flow_id, created, id), instead of walking every run newest first for its name.
        ids = list(session.scalars(select(orm.Flow.id).where(orm.Flow.name == flt.flow_name)))
        query = query.where(run.flow_id.in_(ids))
    if flt.project is not None:
        query = query.join(orm.Project, orm.Project.id == orm.Flow.project_id).where(
            orm.Project.name == flt.project
        )
    if flt.state:
        query = query.where(run.state_type.in_(flt.state))
    if flt.start_after is not None:
        query = query.where(run.start_time >= flt.start_after)
    if flt.start_before is not None:
        query = query.where(run.start_time <= flt.start_before)
    if flt.created_after is not None:
        query = query.where(run.created >= flt.created_after)
    if flt.created_before is not None:
        query = query.where(run.created <= flt.created_before)
    if flt.id_prefix:
        query = query.where(_id_hex().startswith(flt.id_prefix.replace("-", "").lower()))
    if flt.name is not None:
        query = query.where(run.name == flt.name)
    if flt.parent_flow_run_id is not None:
        query = query.where(run.parent_flow_run_id == flt.parent_flow_run_id)
    return query


def _id_hex() -> Any:
    """A run's id as 32 lowercase hex digits on both databases (SQLite stores it so;
    PostgreSQL's uuid text has dashes)."""
    return func.replace(cast(orm.FlowRun.id, String), "-", "")


def list_runs(session: Session, flt: filters.FlowRunFilter) -> list[responses.FlowRunSummary]:
    """Runs, newest first unless asked; without ``flt.full`` their parameters and context
    are never read from the database (a run's parameters may be megabytes)."""
    query = select(orm.FlowRun, orm.Flow.name, orm.Flow.version).join(orm.Flow)
    query = _filtered(session, query, flt)
    run = orm.FlowRun
    # The id breaks ties in the same direction, so that an index on (created, id) gives
    # the order as it is read, with no sort.
    if flt.newest_first:
        query = query.order_by(run.created.desc(), run.id.desc())
    else:
        query = query.order_by(run.created.asc(), run.id.asc())
    query = query.limit(flt.limit).offset(flt.offset)
    if flt.full:
        return [to_response(r, name, version) for r, name, version in session.execute(query)]
    return summaries(session, query)


#: Loader options that leave a run's two large columns unread (reading one raises).
WITHOUT_LARGE_COLUMNS = (
    defer(orm.FlowRun.parameters, raiseload=True),
    defer(orm.FlowRun.context, raiseload=True),
)


def summaries(session: Session, query: Select[Any]) -> list[responses.FlowRunSummary]:
    """The runs a ``select(FlowRun, Flow.name, Flow.version)`` query finds, as summaries."""
    rows = session.execute(query.options(*WITHOUT_LARGE_COLUMNS)).all()
    return [to_summary(r, name, version) for r, name, version in rows]


def response(session: Session, run: orm.FlowRun) -> responses.FlowRun:
    # Only the two columns: loading the Flow would decode its whole serialized graph,
    # and runs are read often (claims, heartbeats' callers, every poll of a watcher).
    # The foreign key guarantees the row.
    name, version = session.execute(_FLOW_NAME, {"id": run.flow_id}).one()
    return to_response(run, name, version)


_FLOW_NAME = select(orm.Flow.name, orm.Flow.version).where(orm.Flow.id == bindparam("id"))


def _summary_fields(run: orm.FlowRun, flow_name: str, flow_version: int) -> dict[str, Any]:
    return {
        "id": run.id,
        "flow_id": run.flow_id,
        "flow_name": flow_name,
        "flow_version": flow_version,
        "name": run.name,
        "labels": run.labels,
        "idempotency_key": run.idempotency_key,
        "state": states.current_state(run),
        "version": run.version,
        "scheduled_start_time": run.scheduled_start_time,
        "start_time": run.start_time,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "heartbeat": run.heartbeat,
        "agent_id": run.agent_id,
        "cancel_requested": run.cancel_requested,
        "auto_scheduled": run.auto_scheduled,
        "lazarus_count": run.lazarus_count,
        "attempt": run.attempt,
        "parent_flow_run_id": run.parent_flow_run_id,
        "parent_task_run_id": run.parent_task_run_id,
        "created": run.created,
        "updated": run.updated,
    }


def to_summary(run: orm.FlowRun, flow_name: str, flow_version: int) -> responses.FlowRunSummary:
    return responses.FlowRunSummary(**_summary_fields(run, flow_name, flow_version))


def to_response(run: orm.FlowRun, flow_name: str, flow_version: int) -> responses.FlowRun:
    return responses.FlowRun(
        **_summary_fields(run, flow_name, flow_version),
        parameters=run.parameters,
        context=run.context,
    )


def set_state(
    session: Session,
    run_id: uuid.UUID,
    action: actions.SetState,
    now: float,
    *,
    attempt: int | None = None,
) -> orm.FlowRun:
    """Move the run to a new state if ``attempt`` (when given) and ``action.version`` are
    current and the move allowed.

    A write without an attempt is not the run's process: when it ends the run, the
    task runs the process left open are closed with it (see ``open_task_runs``).
    """
    run = read(session, run_id, for_update=True)
    subject = f"Flow run {run.name} ({run.id})"
    attempts.check(run, attempt)
    states.check_version(run, action.version, subject)
    states.check_move(run.state_type, action.state.type, f"flow run {run.name} ({run.id})")
    states.apply(session, run, action.state, now)
    if attempt is None:
        open_task_runs.close(session, run, now)
    session.flush()
    return run


def history(session: Session, run_id: uuid.UUID) -> list[responses.StateHistoryItem]:
    read(session, run_id)
    query = (
        select(orm.FlowRunState)
        .where(orm.FlowRunState.flow_run_id == run_id)
        .order_by(orm.FlowRunState.version)
    )
    return [
        responses.StateHistoryItem(version=row.version, state=states.history_item(row))
        for row in session.scalars(query)
    ]


def heartbeat(session: Session, run_id: uuid.UUID, now: float, attempt: int | None = None) -> bool:
    """Note that the run is alive; answer whether it should cancel.

    A heartbeat from an older attempt is refused (it would keep a run alive that
    another process now runs) and tells its process to stop.
    """
    run = read(session, run_id, for_update=True)
    attempts.check(run, attempt)
    run.heartbeat = now
    return run.cancel_requested


def cancel(session: Session, run_id: uuid.UUID, now: float) -> orm.FlowRun:
    """Ask a run to stop: a waiting run is Cancelled at once, a started one Cancelling."""
    run = read(session, run_id, for_update=True)
    if run.state_type in FINISHED_TYPES:
        raise Conflict(
            f"Flow run {run.name} ({run.id}) has already finished ({run.state_type.value}); "
            "there is nothing to cancel."
        )
    run.cancel_requested = True
    if run.state_type in CLAIMABLE_TYPES:
        new = StateType.CANCELLED
        message = "Cancelled before it started."
    else:
        new = StateType.CANCELLING
        message = "Cancellation was asked for; the run will stop at its next heartbeat."
    if run.state_type is not StateType.CANCELLING:
        states.check_move(run.state_type, new, f"flow run {run.name} ({run.id})")
        states.apply(session, run, StateData(type=new, message=message, timestamp=now), now)
        open_task_runs.close(session, run, now)  # left by an earlier attempt, if any
    traces.record(session, run.id, "cancel_requested", now, {"state": new.value})
    session.flush()
    return run


def resume(session: Session, run_id: uuid.UUID, now: float) -> orm.FlowRun:
    """Approve a Paused run's paused task runs and send it back to Scheduled (now): its
    next attempt runs them, as Prefect 1's Resume does, and keeps what finished."""
    run = read(session, run_id, for_update=True)
    if run.state_type is not StateType.PAUSED:
        raise Conflict(
            f"Flow run {run.name} ({run.id}) is {run.state_type.value}; only a Paused run "
            "(one whose task waits for approval) can be resumed."
        )
    approved = open_task_runs.approve_paused(session, run, now)
    message = f"Resumed: {approved} paused task run{'s' if approved != 1 else ''} approved."
    states.apply(
        session,
        run,
        StateData(type=StateType.SCHEDULED, message=message, start_time=now, timestamp=now),
        now,
    )
    traces.record(session, run.id, "resumed", now, {"approved": approved})
    session.flush()
    return run


def restart(session: Session, run_id: uuid.UUID, now: float) -> orm.FlowRun:
    """Send a run that ended badly back to Scheduled (now); finished tasks are kept."""
    run = read(session, run_id, for_update=True)
    if run.state_type not in RESTARTABLE_TYPES:
        raise Conflict(
            f"Flow run {run.name} ({run.id}) is {run.state_type.value}; only a run that "
            "failed or was cancelled can be restarted."
        )
    run.cancel_requested = False
    run.ended_at = None
    message = "Restarted: tasks that succeeded keep their results; the rest run again."
    states.apply(
        session,
        run,
        StateData(type=StateType.SCHEDULED, message=message, start_time=now, timestamp=now),
        now,
    )
    traces.record(session, run.id, "restarted", now, {"from": "restart"})
    session.flush()
    return run
