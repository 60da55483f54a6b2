"""Flows: one row per version; registering adds a version only when something changed.

A version group is (project, flow name). "Changed" means the canonical JSON of
serialized_flow + storage + executor + run_config differs from the latest
version's. A new version archives the older ones, so schedules and runs by name
go to the newest.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from weir.schemas import actions, filters, responses
from weir.server.database import orm
from weir.server.errors import NotFound, Unprocessable
from weir.server.models import flow_specs, forget_runs, projects


def fingerprint(action: actions.FlowCreate) -> str:
    """sha256 of the canonical JSON of everything that defines a flow version."""
    data = {
        "serialized_flow": action.serialized_flow,
        "storage": action.storage,
        "executor": action.executor,
        "run_config": action.run_config,
    }
    if action.labels:
        # Its runs go to other agents: a new version. Left out when there are none, so
        # that a flow registered without labels keeps the fingerprint it always had.
        data["labels"] = sorted(set(action.labels))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_key(action: actions.FlowCreate) -> str:
    """What tells this version from the latest: its idempotency key, else its contents."""
    if action.idempotency_key is None:
        return fingerprint(action)
    # Led by a letter no hex digest has, so no key equals a content digest (64 chars).
    return "k" + hashlib.sha256(action.idempotency_key.encode()).hexdigest()[:63]


def group(project_id: uuid.UUID, name: str) -> tuple[ColumnElement[bool], ...]:
    """What selects the versions of one flow: its version group (project, name)."""
    return (orm.Flow.project_id == project_id, orm.Flow.name == name)


def _newest(
    session: Session, project_id: uuid.UUID, name: str, *where: ColumnElement[bool]
) -> orm.Flow | None:
    query = (
        select(orm.Flow)
        .where(*group(project_id, name), *where)
        .order_by(orm.Flow.version.desc())
        .limit(1)
    )
    return session.scalar(query)


def _latest(session: Session, project_id: uuid.UUID, name: str) -> orm.Flow | None:
    return _newest(session, project_id, name)


def _live(session: Session, project_id: uuid.UUID, name: str) -> orm.Flow | None:
    """The version of the group that is not archived (the newest, should there be two)."""
    return _newest(session, project_id, name, orm.Flow.archived.is_(False))


def _archive_others(
    session: Session, project_id: uuid.UUID, name: str, keep: uuid.UUID | None = None
) -> None:
    """Archive the group's live versions but ``keep``, and drop their scheduled runs:
    one version of a flow is scheduled and runs by name."""
    others = list(
        session.scalars(
            select(orm.Flow.id).where(
                *group(project_id, name), orm.Flow.id != keep, orm.Flow.archived.is_(False)
            )
        )
    )
    if others:
        session.execute(update(orm.Flow).where(orm.Flow.id.in_(others)).values(archived=True))
        drop_scheduled_runs(session, others)


def _make_live(session: Session, flow: orm.Flow) -> None:
    """Make ``flow`` its group's live version (the others archived)."""
    _archive_others(session, flow.project_id, flow.name, keep=flow.id)


def register(
    session: Session, action: actions.FlowCreate, now: float | None = None
) -> tuple[orm.Flow, bool]:
    """Store a new version when the flow changed; return (the version, whether it is new).

    What the server uses later (schedule, storage, run config, executor) is checked
    first (``flow_specs.check``), so a flow that would fail there is never stored.
    """
    flow_specs.check(action, time.time() if now is None else now)
    project = projects.get_or_create(session, action.project)
    name = action.serialized_flow["name"]
    digest = version_key(action)
    latest = _latest(session, project.id, name)
    live = _live(session, project.id, name)
    for same in (live, latest):
        if same is not None and same.fingerprint == digest:
            if same.archived:
                # The newest version, archived by a roll-back to an older one: registered
                # again as it is, it is the live one again (no new version).
                _make_live(session, same)
                same.archived = False
            return same, False
    _archive_others(session, project.id, name)
    flow = orm.Flow(
        project_id=project.id,
        name=name,
        version=1 if latest is None else latest.version + 1,
        fingerprint=digest,
        serialized_flow=action.serialized_flow,
        storage=action.storage,
        executor=action.executor,
        run_config=action.run_config,
        labels=list(action.labels),
        description=action.description,
        archived=False,
        schedule_active=True if latest is None else latest.schedule_active,
    )
    try:
        # Two registrations of one new version race on (project, name, version): the
        # loser gets the winner's version when it is the same flow, else a 409.
        with session.begin_nested():
            session.add(flow)
            session.flush()
    except IntegrityError:
        winner = _latest(session, project.id, name)
        if winner is None or winner.fingerprint != digest:
            raise
        return winner, False
    return flow, True


def read(session: Session, flow_id: uuid.UUID, *, graph: bool = True) -> orm.Flow:
    """The flow version; without ``graph`` its serialized graph is left unread until used
    (a big flow's is hundreds of kilobytes of JSON to decode)."""
    options = () if graph else (defer(orm.Flow.serialized_flow),)
    flow = session.get(orm.Flow, flow_id, options=options)
    if flow is None:
        raise NotFound(f"There is no flow with id {flow_id}; `weir flow ls` lists the flows.")
    return flow


def declared_parameters(session: Session, flow_id: uuid.UUID) -> list[Any]:
    """The parameters the flow's serialized graph declares, read out of it by the
    database instead of decoding the whole graph here."""
    found = session.scalar(
        select(orm.Flow.serialized_flow["parameters"]).where(orm.Flow.id == flow_id)
    )
    return found if isinstance(found, list) else []


def read_by_name(
    session: Session, name: str, project: str | None = None, *, graph: bool = True
) -> orm.Flow:
    """The newest version of the flow called ``name`` (in ``project`` when given)."""
    query = select(orm.Flow).where(orm.Flow.name == name)
    if not graph:
        query = query.options(defer(orm.Flow.serialized_flow))
    if project is not None:
        query = query.join(orm.Project).where(orm.Project.name == project)
    query = query.order_by(orm.Flow.archived, orm.Flow.version.desc())
    found = list(session.scalars(query.limit(50)))
    if not found:
        where = f" in project {project!r}" if project else ""
        raise NotFound(f"There is no flow called {name!r}{where}; register it first.")
    if len({f.project_id for f in found}) > 1:
        raise Unprocessable(
            f"Several projects have a flow called {name!r}; say which with `project`.",
            field="project",
        )
    return found[0]


def update_flow(session: Session, flow_id: uuid.UUID, action: actions.FlowUpdate) -> orm.Flow:
    flow = read(session, flow_id)
    if action.archived is False and flow.archived:
        # Un-archiving a version makes it its group's live one again (a roll-back).
        _make_live(session, flow)
    if action.archived is not None:
        flow.archived = action.archived
    if action.schedule_active is not None:
        flow.schedule_active = action.schedule_active
    if flow.archived or not flow.schedule_active:
        drop_scheduled_runs(session, [flow.id])
    session.flush()
    return flow


def archive(session: Session, flow_id: uuid.UUID) -> orm.Flow:
    """Archive a flow version: no more scheduled runs; its runs stay until retention."""
    return update_flow(session, flow_id, actions.FlowUpdate(archived=True))


def drop_scheduled_runs(session: Session, flow_ids: list[uuid.UUID]) -> None:
    """Delete the scheduler's runs of these flows that nobody has touched yet.

    A run still at version 1 has never changed state since the scheduler made
    it, so no agent holds it; the scheduler makes the newest version's instead.
    """
    if not flow_ids:
        return
    session.execute(
        delete(orm.FlowRun).where(
            orm.FlowRun.flow_id.in_(flow_ids),
            orm.FlowRun.auto_scheduled.is_(True),
            orm.FlowRun.version == 1,
        )
    )
    forget_runs(session)


def _filtered(query: Select[Any], flt: filters.FlowFilter) -> Select[Any]:
    if flt.project is not None:
        query = query.where(orm.Project.name == flt.project)
    if flt.name is not None:
        query = query.where(orm.Flow.name == flt.name)
    if not flt.include_archived:
        query = query.where(orm.Flow.archived.is_(False))
    return query


def list_flows(session: Session, flt: filters.FlowFilter) -> list[responses.FlowSummary]:
    """Flow versions; without ``flt.full`` their graphs are never read from the database."""
    query = select(orm.Flow, orm.Project.name, has_schedule(session)).join(orm.Project)
    if not flt.full:
        query = query.options(defer(orm.Flow.serialized_flow, raiseload=True))
    query = _filtered(query, flt).order_by(orm.Project.name, orm.Flow.name, orm.Flow.version)
    rows = session.execute(query.limit(flt.limit).offset(flt.offset)).all()
    if flt.full:
        return [to_response(flow, project) for flow, project, _ in rows]
    return [to_summary(flow, project, bool(scheduled)) for flow, project, scheduled in rows]


def read_summary(session: Session, flow_id: uuid.UUID) -> responses.FlowSummary:
    """The flow version without its serialized graph, which stays unread."""
    query = (
        select(orm.Flow, orm.Project.name, has_schedule(session))
        .join(orm.Project)
        .where(orm.Flow.id == flow_id)
        .options(defer(orm.Flow.serialized_flow, raiseload=True))
    )
    found = session.execute(query).one_or_none()
    if found is None:
        raise NotFound(f"There is no flow with id {flow_id}; `weir flow ls` lists the flows.")
    flow, project, scheduled = found
    return to_summary(flow, project, bool(scheduled))


def _json_type(session: Session, key: str) -> ColumnElement[Any]:
    """The JSON type name of the serialized flow's ``key`` ('null' or NULL when none)."""
    graph = orm.Flow.serialized_flow
    if session.get_bind().dialect.name == "sqlite":
        return func.json_type(graph, f"$.{key}")
    return func.jsonb_typeof(graph[key])


def has_schedule(session: Session) -> ColumnElement[bool]:
    """Whether a flow has a schedule, asked of the database (the graph stays unread)."""
    return func.coalesce(_json_type(session, "schedule"), "null") != "null"


def task_count(session: Session) -> ColumnElement[int]:
    """How many tasks a flow's graph has, counted by the database."""
    graph = orm.Flow.serialized_flow
    if session.get_bind().dialect.name == "sqlite":
        return func.coalesce(func.json_array_length(graph, "$.tasks"), 0)
    is_list = _json_type(session, "tasks") == "array"
    return case((is_list, func.jsonb_array_length(graph["tasks"])), else_=0)


def response(session: Session, flow: orm.Flow) -> responses.Flow:
    project = session.get(orm.Project, flow.project_id)
    return to_response(flow, project.name if project else "")


def summary_response(session: Session, flow: orm.Flow) -> responses.FlowSummary:
    project = session.get(orm.Project, flow.project_id)
    scheduled = flow.serialized_flow.get("schedule") is not None
    return to_summary(flow, project.name if project else "", scheduled)


def _summary_fields(flow: orm.Flow, project: str, scheduled: bool) -> dict[str, Any]:
    return {
        "id": flow.id,
        "project_id": flow.project_id,
        "project": project,
        "name": flow.name,
        "version": flow.version,
        "version_group": f"{project}/{flow.name}",
        "archived": flow.archived,
        "schedule_active": flow.schedule_active,
        "has_schedule": scheduled,
        "labels": flow.labels,
        "storage": flow.storage,
        "executor": flow.executor,
        "run_config": flow.run_config,
        "description": flow.description,
        "created": flow.created,
    }


def to_summary(flow: orm.Flow, project: str, scheduled: bool) -> responses.FlowSummary:
    return responses.FlowSummary(**_summary_fields(flow, project, scheduled))


def to_response(flow: orm.Flow, project: str) -> responses.Flow:
    scheduled = flow.serialized_flow.get("schedule") is not None
    return responses.Flow(
        **_summary_fields(flow, project, scheduled), serialized_flow=flow.serialized_flow
    )
