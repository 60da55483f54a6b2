"""Read-only aggregates the web UI asks for: dashboard counts, flow overviews, run summaries.

Everything here is a read. The answers are views shaped for the pages (the
pydantic classes below), not resources: a mapped task is summarised as counts
per state so that a run with thousands of children costs the browser one row
per task, not one per child. State counts are keyed by the state's name.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session, defer

from weir.schemas import responses
from weir.server.database import orm
from weir.server.models import flow_runs, flows, task_runs
from weir.state_types import (
    ACTIVE_TYPES,
    CLAIMABLE_TYPES,
    FAILED_TYPES,
    FINISHED_TYPES,
    SUCCESSFUL_TYPES,
    StateType,
)

#: A waiting run this many seconds past its start time is shown as late.
LATE_AFTER = 60.0
#: Waiting states: a run in one of these past its start time has not been picked up.
_WAITING = sorted(CLAIMABLE_TYPES)
#: A run overview asked for changes only summarises at most this many tasks, else all.
MAX_CHANGED = 500
#: "Changed after" looks this many seconds further back than the last answer, so a
#: write whose transaction was still open then (stamped earlier) is not missed.
CHANGE_OVERLAP = 10.0


class Bucket(BaseModel):
    start: float
    counts: dict[str, int]


class RunBuckets(BaseModel):
    """Runs by state per time bucket, by start time, from ``since`` on."""

    since: float
    bucket_seconds: float
    buckets: list[Bucket]
    totals: dict[str, int]


class Dashboard(BaseModel):
    now: float
    hours: float
    #: Seconds past its start time after which a waiting run counts as late.
    late_after: float
    runs: RunBuckets
    late: list[responses.FlowRunSummary]
    failed: list[responses.FlowRunSummary]
    upcoming: list[responses.FlowRunSummary]
    running: list[responses.FlowRunSummary]
    agents: list[responses.Agent]


class LastRun(BaseModel):
    id: uuid.UUID
    name: str
    state: StateType
    start_time: float


class FlowOverview(BaseModel):
    """A current flow version as the flows page lists it."""

    id: uuid.UUID
    name: str
    project: str
    version: int
    versions: int
    labels: list[str]
    has_schedule: bool
    schedule_active: bool
    tasks: int
    next_runs: list[float]
    last_run: LastRun | None
    created: float


class TaskSummary(BaseModel):
    """One task of a run: its own state (map index -1) and its children counted by state."""

    slug: str
    state: StateType | None = None
    message: str | None = None
    run_count: int | None = None
    children: int = 0
    counts: dict[str, int] = {}
    #: A mapped task: how many children it will have (known once it has mapped, before
    #: they all exist), so a page can show done/total (``26/200``); None until then.
    expected: int | None = None
    #: When the task (any child) first went Running, and when it (its last child) finished.
    start: float | None = None
    end: float | None = None


class Failure(BaseModel):
    """A task run that failed, with its message: why a failed run failed."""

    task_run_id: uuid.UUID
    slug: str
    map_index: int
    state: StateType
    message: str | None


class RunOverview(BaseModel):
    run: responses.FlowRun
    tasks: list[TaskSummary]
    #: True when ``tasks`` holds every task that has a task run, False when only those
    #: written after the ``changed_after`` asked for.
    complete: bool
    #: Ask with ``changed_after=as_of`` next time to get only what changed since.
    as_of: float
    lifecycle: list[responses.TraceEvent]
    flow: responses.Flow | None = None
    #: A failed run's failed task runs, those that failed themselves before those whose
    #: upstream failed (TriggerFailed), at most ``MAX_FAILURES``; empty for other runs.
    failures: list[Failure] = []
    #: The run that started this one (a flow of flows), when there is one.
    parent: responses.FlowRunSummary | None = None
    #: The runs this one started, oldest first, at most ``MAX_CHILDREN``.
    children: list[responses.FlowRunSummary] = []


#: How many of the runs a run started its overview lists.
MAX_CHILDREN = 100


class TaskDetail(BaseModel):
    """One task of a run and some of its mapped children: those not successful first."""

    summary: TaskSummary | None
    children: list[responses.TaskRun]


def _runs(session: Session, query: Any) -> list[responses.FlowRunSummary]:
    return flow_runs.summaries(session, query)


def _run_query() -> Any:
    return select(orm.FlowRun, orm.Flow.name, orm.Flow.version).join(orm.Flow)


def run_buckets(session: Session, now: float, hours: float, buckets: int) -> RunBuckets:
    """Counts of runs by state per time bucket over the last ``hours`` (by start time).

    The database counts (one row per bucket and state): a busy day's runs are never
    sent over. Naming every state lets it read the window from the claim's index on
    ``(state_type, start_time)`` alone, one range per state, not the whole table.
    """
    since = now - hours * 3600.0
    width = hours * 3600.0 / buckets
    run = orm.FlowRun
    offset = (run.start_time - since) / width
    # Start times are within the window, so the offset is >= 0 and truncating floors it
    # (SQLite's CAST truncates; PostgreSQL's rounds, hence floor there).
    sqlite = session.get_bind().dialect.name == "sqlite"
    bucket = cast(offset if sqlite else func.floor(offset), Integer)
    query = (
        select(bucket, run.state_type, func.count())
        .where(run.state_type.in_(list(StateType)), run.start_time >= since, run.start_time <= now)
        .group_by(bucket, run.state_type)
    )
    counts: list[Counter[str]] = [Counter() for _ in range(buckets)]
    totals: Counter[str] = Counter()
    for index, state, count in session.execute(query):
        counts[min(max(index, 0), buckets - 1)][state.value] += count
        totals[state.value] += count
    return RunBuckets(
        since=since,
        bucket_seconds=width,
        buckets=[Bucket(start=since + i * width, counts=dict(c)) for i, c in enumerate(counts)],
        totals=dict(totals),
    )


def dashboard(session: Session, now: float, hours: float, buckets: int) -> Dashboard:
    """Everything the dashboard shows, in one read."""
    run = orm.FlowRun
    since = now - hours * 3600.0
    late = _run_query().where(run.state_type.in_(_WAITING), run.start_time < now - LATE_AFTER)
    # A failed run has ended (its state is a finished one), so the newest failures are
    # found walking the index on ended_at back from now, not by reading every failed run.
    failed = _run_query().where(run.state_type.in_(sorted(FAILED_TYPES)), run.ended_at >= since)
    upcoming = _run_query().where(
        run.state_type == StateType.SCHEDULED, run.start_time >= now - LATE_AFTER
    )
    running = _run_query().where(run.state_type.in_(sorted(ACTIVE_TYPES)))
    agents = session.scalars(select(orm.Agent).order_by(orm.Agent.name).limit(100))
    return Dashboard(
        now=now,
        hours=hours,
        late_after=LATE_AFTER,
        runs=run_buckets(session, now, hours, buckets),
        late=_runs(session, late.order_by(run.start_time).limit(20)),
        failed=_runs(session, failed.order_by(run.ended_at.desc()).limit(20)),
        upcoming=_runs(session, upcoming.order_by(run.start_time).limit(20)),
        running=_runs(session, running.order_by(run.start_time).limit(20)),
        agents=[responses.Agent.model_validate(a) for a in agents],
    )


def flows_overview(session: Session, now: float, limit: int, offset: int) -> list[FlowOverview]:
    """Current flow versions with their number of versions, next runs and last run.

    The database answers whether each has a schedule and how many tasks it has, so
    that listing flows never decodes their (possibly huge) serialized graphs.
    """
    query = (
        select(orm.Flow, orm.Project.name, flows.has_schedule(session), flows.task_count(session))
        .join(orm.Project)
        .where(orm.Flow.archived.is_(False))
        .options(defer(orm.Flow.serialized_flow, raiseload=True))
        .order_by(orm.Project.name, orm.Flow.name, orm.Flow.version)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(query).all()
    ids = [row[0].id for row in rows]
    versions = _version_counts(session, [(row[0].project_id, row[0].name) for row in rows])
    upcoming = _next_runs(session, ids, now)
    last = _last_runs(session, ids)
    return [
        FlowOverview(
            id=flow.id,
            name=flow.name,
            project=project,
            version=flow.version,
            versions=versions.get((flow.project_id, flow.name), 1),
            labels=flow.labels,
            has_schedule=bool(scheduled),
            schedule_active=flow.schedule_active,
            tasks=tasks or 0,
            next_runs=upcoming.get(flow.id, []),
            last_run=last.get(flow.id),
            created=flow.created,
        )
        for flow, project, scheduled, tasks in rows
    ]


def _version_counts(
    session: Session, groups: list[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], int]:
    if not groups:
        return {}
    names = sorted({name for _, name in groups})
    query = (
        select(orm.Flow.project_id, orm.Flow.name, func.count())
        .where(orm.Flow.name.in_(names))
        .group_by(orm.Flow.project_id, orm.Flow.name)
    )
    return {(p, n): c for p, n, c in session.execute(query)}


def _next_runs(
    session: Session, flow_ids: list[uuid.UUID], now: float, per_flow: int = 3
) -> dict[uuid.UUID, list[float]]:
    if not flow_ids:
        return {}
    run = orm.FlowRun
    query = (
        select(run.flow_id, run.start_time)
        .where(
            run.flow_id.in_(flow_ids),
            run.state_type == StateType.SCHEDULED,
            run.start_time >= now - LATE_AFTER,
        )
        .order_by(run.start_time)
        .limit(per_flow * len(flow_ids) * 4)
    )
    found: dict[uuid.UUID, list[float]] = defaultdict(list)
    for flow_id, start in session.execute(query):
        if len(found[flow_id]) < per_flow:
            found[flow_id].append(start)
    return dict(found)


def _last_runs(session: Session, flow_ids: list[uuid.UUID]) -> dict[uuid.UUID, LastRun]:
    """The newest run of each flow that is no longer waiting for its start."""
    if not flow_ids:
        return {}
    run = orm.FlowRun
    newest = (
        select(run.flow_id, func.max(run.created).label("created"))
        .where(run.flow_id.in_(flow_ids), run.state_type.not_in(_WAITING))
        .group_by(run.flow_id)
        .subquery()
    )
    query = select(run.flow_id, run.id, run.name, run.state_type, run.start_time).join(
        newest, (newest.c.flow_id == run.flow_id) & (newest.c.created == run.created)
    )
    return {
        flow_id: LastRun(id=run_id, name=name, state=state, start_time=start)
        for flow_id, run_id, name, state, start in session.execute(query)
    }


def run_overview(
    session: Session,
    run_id: uuid.UUID,
    now: float,
    *,
    include_flow: bool = False,
    changed_after: float | None = None,
) -> RunOverview:
    """A flow run, one summary per task (children counted by state) and its lifecycle trace.

    With ``include_flow`` the flow version (its graph) comes along, so that a page
    opening a run draws it after one round trip instead of two. With
    ``changed_after`` (a previous answer's ``as_of``) only the tasks written since
    are summarised, unless too many changed; ``complete`` says which.
    """
    run = flow_runs.read(session, run_id)
    flow = flows.response(session, flows.read(session, run.flow_id)) if include_flow else None
    slugs = None if changed_after is None else changed_slugs(session, run_id, changed_after)
    if slugs is not None and len(slugs) > MAX_CHANGED:
        slugs = None
    return RunOverview(
        run=flow_runs.response(session, run),
        tasks=task_summaries(session, run_id, slugs),
        complete=slugs is None,
        as_of=now - CHANGE_OVERLAP,
        lifecycle=lifecycle(session, run_id),
        flow=flow,
        failures=failures(session, run_id) if run.state_type in FAILED_TYPES else [],
        parent=_parent(session, run),
        children=_children(session, run_id),
    )


def _parent(session: Session, run: Any) -> responses.FlowRunSummary | None:
    if run.parent_flow_run_id is None:
        return None
    found = _runs(
        session,
        _summary_query().where(orm.FlowRun.id == run.parent_flow_run_id),
    )
    return found[0] if found else None  # deleted since: no link


def _children(session: Session, run_id: uuid.UUID) -> list[responses.FlowRunSummary]:
    query = (
        _summary_query()
        .where(orm.FlowRun.parent_flow_run_id == run_id)
        .order_by(orm.FlowRun.created, orm.FlowRun.id)
        .limit(MAX_CHILDREN)
    )
    return _runs(session, query)


def _summary_query() -> Any:
    return select(orm.FlowRun, orm.Flow.name, orm.Flow.version).join(orm.Flow)


#: How many failed task runs a failed run's summary lists.
MAX_FAILURES = 20


def failures(session: Session, run_id: uuid.UUID) -> list[Failure]:
    """The run's failed task runs: the causes (Failed, TimedOut) before the consequences
    (TriggerFailed), each in the order it failed."""
    t = orm.TaskRun
    consequence = case((t.state_type == StateType.TRIGGER_FAILED, 1), else_=0)
    query = (
        select(t.id, t.task_slug, t.map_index, t.state_type, t.state_message)
        .where(t.flow_run_id == run_id, t.state_type.in_(sorted(FAILED_TYPES)))
        .order_by(consequence, t.state_timestamp, t.map_index)
        .limit(MAX_FAILURES)
    )
    return [
        Failure(task_run_id=i, slug=slug, map_index=index, state=state, message=message)
        for i, slug, index, state, message in session.execute(query)
    ]


def lifecycle(session: Session, run_id: uuid.UUID, limit: int = 1000) -> list[responses.TraceEvent]:
    """The run's own trace events (claimed, process started, ...), not those of each task."""
    e = orm.TraceEvent
    query = (
        select(e)
        .where(e.flow_run_id == run_id, e.task_slug.is_(None))
        .order_by(e.timestamp, e.id)
        .limit(limit)
    )
    return [responses.TraceEvent.model_validate(row) for row in session.scalars(query)]


def task_summaries(
    session: Session, run_id: uuid.UUID, slugs: list[str] | None = None
) -> list[TaskSummary]:
    """Per task slug (all, or those in ``slugs``): its own state (map index -1), counts of
    its children by state, times."""
    t = orm.TaskRun
    summaries: dict[str, TaskSummary] = {}

    def entry(slug: str) -> TaskSummary:
        if slug not in summaries:
            summaries[slug] = TaskSummary(slug=slug, counts={})
        return summaries[slug]

    def of_run(query: Any) -> Any:
        query = query.where(t.flow_run_id == run_id)
        return query if slugs is None else query.where(t.task_slug.in_(slugs))

    own = select(t.task_slug, t.state_type, t.state_message, t.state_run_count, t.state_timestamp)
    for slug, state, message, run_count, stamp in session.execute(
        of_run(own.where(t.map_index == -1))
    ):
        item = entry(slug)
        item.state, item.message, item.run_count = state, message, run_count
        if state in FINISHED_TYPES:
            item.end = stamp
    children = of_run(
        select(t.task_slug, t.state_type, func.count(), func.max(t.state_timestamp)).where(
            t.map_index >= 0
        )
    ).group_by(t.task_slug, t.state_type)
    for slug, state, count, last in session.execute(children):
        item = entry(slug)
        item.counts[state.value] = count
        item.children += count
        if state in FINISHED_TYPES:
            item.end = max(item.end or last, last)
    for slug, started in _first_running(session, of_run):
        entry(slug).start = started
    for slug, expected in _mapped_to(session, run_id, slugs).items():
        entry(slug).expected = expected
    return list(summaries.values())


def _mapped_to(session: Session, run_id: uuid.UUID, slugs: list[str] | None) -> dict[str, int]:
    """How many children each mapped task mapped to: its ``task_mapped`` trace event's
    ``children`` (the last one, should a restarted run map again)."""
    e = orm.TraceEvent
    query = select(e.task_slug, e.data).where(e.flow_run_id == run_id, e.kind == "task_mapped")
    if slugs is not None:
        query = query.where(e.task_slug.in_(slugs))
    found: dict[str, int] = {}
    for slug, data in session.execute(query.order_by(e.timestamp, e.id)):
        children = (data or {}).get("children")
        if slug is not None and isinstance(children, int):
            found[slug] = children
    return found


def changed_slugs(session: Session, run_id: uuid.UUID, after: float) -> list[str]:
    """The tasks of the run with a task run written after ``after`` (server clock)."""
    t = orm.TaskRun
    query = select(t.task_slug).where(t.flow_run_id == run_id, t.updated > after).distinct()
    return list(session.scalars(query.limit(MAX_CHANGED + 1)))


def _first_running(session: Session, of_run: Any) -> list[tuple[str, float]]:
    """When each task (any of its children) first went Running."""
    t = orm.TaskRun
    query = of_run(
        select(t.task_slug, func.min(t.started_at)).where(t.started_at.is_not(None))
    ).group_by(t.task_slug)
    return [(slug, started) for slug, started in session.execute(query)]


def task_detail(session: Session, run_id: uuid.UUID, slug: str, limit: int) -> TaskDetail:
    """The task's summary and up to ``limit`` of its children, failed and unfinished first
    (the ones a reader looks for among thousands), then by map index."""
    flow_runs.read(session, run_id)
    found = task_summaries(session, run_id, [slug])
    t = orm.TaskRun
    fine = case((t.state_type.in_(sorted(SUCCESSFUL_TYPES)), 1), else_=0)
    query = (
        select(t)
        .where(t.flow_run_id == run_id, t.task_slug == slug, t.map_index >= 0)
        .order_by(fine, t.map_index)
        .limit(limit)
    )
    return TaskDetail(
        summary=found[0] if found else None,
        children=[task_runs.to_response(row) for row in session.scalars(query)],
    )


class TaskRunRow(BaseModel):
    """One task run as the run page's table shows it."""

    id: uuid.UUID
    slug: str
    map_index: int
    #: What the task's ``task_run_name`` made for it (None without one).
    name: str | None
    state: StateType
    message: str | None
    started_at: float | None
    #: When it finished (None while it has not).
    ended_at: float | None
    duration: float | None
    #: How many times it ran (retries count); 0 before it first ran.
    attempts: int


class TaskRunRows(BaseModel):
    rows: list[TaskRunRow]
    #: How many task runs match (of which ``rows`` is one page).
    total: int


#: The table's sort keys, each a column (or expression) of task_run.
SORTS = ("name", "state", "started", "duration", "attempts")


def task_run_rows(
    session: Session,
    run_id: uuid.UUID,
    *,
    slug: str | None = None,
    states: list[StateType] | None = None,
    sort: str = "name",
    descending: bool = False,
    limit: int = 200,
    offset: int = 0,
) -> TaskRunRows:
    """The run's task runs (or one task's mapped children with ``slug``), filtered by
    state, sorted in the database so that a page of thousands is a page of the whole."""
    flow_runs.read(session, run_id)
    t = orm.TaskRun
    finished = t.state_type.in_(sorted(FINISHED_TYPES))
    duration = case((finished, t.state_timestamp - t.started_at), else_=None)
    # The engine counts runs on a state only once a task retries: one run before that.
    attempts = func.coalesce(t.state_run_count, case((t.started_at.is_not(None), 1), else_=0))
    where = [t.flow_run_id == run_id]
    if slug is not None:
        where += [t.task_slug == slug, t.map_index >= 0]
    if states:
        where.append(t.state_type.in_(states))
    keys: dict[str, list[Any]] = {
        "name": [t.task_slug, t.map_index],
        "state": [t.state_type, t.task_slug, t.map_index],
        "started": [t.started_at, t.task_slug, t.map_index],
        "duration": [duration, t.task_slug, t.map_index],
        "attempts": [attempts, t.task_slug, t.map_index],
    }
    order = [k.desc() if descending else k.asc() for k in keys[sort]]
    query = (
        select(
            t.id,
            t.task_slug,
            t.map_index,
            t.name,
            t.state_type,
            t.state_message,
            t.started_at,
            t.state_timestamp,
            duration,
            attempts,
        )
        .where(*where)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    rows = [
        TaskRunRow(
            id=i,
            slug=task_slug,
            map_index=index,
            name=name,
            state=state,
            message=message,
            started_at=started,
            ended_at=stamp if state in FINISHED_TYPES else None,
            duration=took,
            attempts=attempts,
        )
        for i, task_slug, index, name, state, message, started, stamp, took, attempts in (
            session.execute(query)
        )
    ]
    total = session.scalar(select(func.count()).select_from(t).where(*where)) or 0
    return TaskRunRows(rows=rows, total=total)


#: The log levels' names, for the text download.
_LEVELS = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}


def log_text(session: Session, run_id: uuid.UUID, page: int = 10_000) -> Iterator[str]:
    """The run's log lines as text, one per line: UTC time, level, where (``fetch[3]`` for
    a mapped child, ``flow`` for the run's own), message; read a page at a time."""
    flow_runs.read(session, run_id)
    log = orm.Log
    after = 0
    while True:
        query = (
            select(log.id, log.timestamp, log.level, log.task_slug, log.map_index, log.message)
            .where(log.flow_run_id == run_id, log.id > after)
            .order_by(log.id)
            .limit(page)
        )
        rows = session.execute(query).all()
        for line_id, stamp, level, slug, index, message in rows:
            after = line_id
            when = datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="milliseconds")
            yield f"{when} {_LEVELS.get(level, f'L{level}'):<8} {where(slug, index)} {message}\n"
        if len(rows) < page:
            return


def where(slug: str | None, map_index: int | None) -> str:
    """Where a log line comes from: the task (with its map index) or the flow."""
    if slug is None:
        return "flow"
    return f"{slug}[{map_index}]" if map_index is not None and map_index >= 0 else slug
