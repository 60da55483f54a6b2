"""The runs page's reads: every run newest first, filtered, paged by key; a flow's history.

Paging is by key, not offset: a page is "the ``limit`` runs older than this
(created, id)", which the index on ``(created, id)`` (and ``(state_type,
created, id)`` for a state filter) answers by reading just that many rows, so
page 1,000 costs what page 1 does with 100,000 runs in the table. The cursor
is opaque to the page: ``"<created>_<id>"``.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import String, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from weir.engine.state import StateType
from weir.schemas import responses
from weir.server.database import orm
from weir.server.errors import ServerError
from weir.server.models import flow_runs, flows


class RunsPage(BaseModel):
    runs: list[responses.FlowRunSummary]
    #: Ask with ``before=older`` for the next (older) page; None on the last.
    older: str | None
    #: Ask with ``after=newer`` for the page before (newer runs); None on the first.
    newer: str | None


class RunFilter(BaseModel):
    """What the runs page filters by (each also a query parameter of its URL)."""

    flow: str | None = None
    state: list[StateType] = []
    #: Runs created from ``since`` to ``until`` (seconds since the epoch).
    since: float | None = None
    until: float | None = None
    #: Runs carrying every one of these labels.
    label: list[str] = []
    #: A piece of the run's name (any case), or the start of its id.
    q: str | None = None


def cursor(run: responses.FlowRunSummary) -> str:
    return f"{run.created!r}_{run.id}"


def _parse(value: str) -> tuple[float, uuid.UUID]:
    try:
        created, run_id = value.split("_", 1)
        return float(created), uuid.UUID(run_id)
    except ValueError:
        raise ServerError(
            f"{value!r} is not a page cursor; follow the page's links.", field="before"
        ) from None


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(session: Session, query: Any, flt: RunFilter) -> Any:
    run = orm.FlowRun
    if flt.flow:
        # The ids first: a join on the name would let the database read that flow's runs
        # all by another index and sort them, instead of walking (created, id).
        ids = list(session.scalars(select(orm.Flow.id).where(orm.Flow.name == flt.flow)))
        query = query.where(run.flow_id.in_(ids))
    if flt.state:
        query = query.where(run.state_type.in_(flt.state))
    if flt.since is not None:
        query = query.where(run.created >= flt.since)
    if flt.until is not None:
        query = query.where(run.created <= flt.until)
    for label in flt.label:
        lab = orm.FlowRunLabel
        query = query.where(exists().where(lab.flow_run_id == run.id, lab.label == label))
    if flt.q:
        text = flt.q.strip()
        by_name = run.name.ilike(_like(text), escape="\\")
        hexdigits = text.replace("-", "").lower()
        if hexdigits and all(c in "0123456789abcdef" for c in hexdigits):
            # As git takes short hashes; the id as 32 hex digits on both databases.
            hex_id = func.replace(cast(run.id, String), "-", "")
            by_name = or_(by_name, hex_id.startswith(hexdigits))
        query = query.where(by_name)
    return query


def runs_page(
    session: Session,
    flt: RunFilter,
    limit: int,
    before: str | None = None,
    after: str | None = None,
) -> RunsPage:
    """Up to ``limit`` runs, newest first: the first page, or those older than ``before``,
    or newer than ``after``."""
    run = orm.FlowRun
    query = _filtered(session, select(run, orm.Flow.name, orm.Flow.version).join(orm.Flow), flt)
    newest_first = after is None
    if before is not None:
        created, run_id = _parse(before)
        # The first condition alone bounds the index range; the second breaks the ties.
        query = query.where(
            run.created <= created, or_(run.created < created, and_(run.id < run_id))
        )
    elif after is not None:
        created, run_id = _parse(after)
        query = query.where(
            run.created >= created, or_(run.created > created, and_(run.id > run_id))
        )
    if newest_first:
        query = query.order_by(run.created.desc(), run.id.desc())
    else:
        query = query.order_by(run.created.asc(), run.id.asc())
    found = flow_runs.summaries(session, query.limit(limit + 1))
    more = len(found) > limit
    found = found[:limit]
    if not newest_first:
        found.reverse()
    if not found:
        return RunsPage(runs=[], older=None, newer=None)
    if newest_first:
        older = cursor(found[-1]) if more else None
        newer = cursor(found[0]) if before is not None else None
    else:
        older = cursor(found[-1])
        newer = cursor(found[0]) if more else None
    return RunsPage(runs=found, older=older, newer=newer)


class GridCell(BaseModel):
    state: StateType
    #: Mapped tasks: their children by state.
    counts: dict[str, int] = {}


class FlowGrid(BaseModel):
    """A flow's recent runs (newest first) × its tasks: each task's state in each run."""

    runs: list[responses.FlowRunSummary]
    #: Run id -> task slug -> the task's state in that run.
    cells: dict[uuid.UUID, dict[str, GridCell]]


def flow_grid(session: Session, flow_id: uuid.UUID, runs: int) -> FlowGrid:
    """The last ``runs`` runs of every version of the flow (same project and name)."""
    flow = flows.read(session, flow_id)
    versions = select(orm.Flow.id).where(
        orm.Flow.project_id == flow.project_id, orm.Flow.name == flow.name
    )
    run = orm.FlowRun
    query = (
        select(run, orm.Flow.name, orm.Flow.version)
        .join(orm.Flow)
        .where(run.flow_id.in_(versions))
        .order_by(run.created.desc(), run.id.desc())
        .limit(runs)
    )
    found = flow_runs.summaries(session, query)
    cells: dict[uuid.UUID, dict[str, GridCell]] = {r.id: {} for r in found}
    if found:
        t = orm.TaskRun
        ids = list(cells)
        own = select(t.flow_run_id, t.task_slug, t.state_type).where(
            t.flow_run_id.in_(ids), t.map_index == -1
        )
        for run_id, slug, state in session.execute(own):
            cells[run_id][slug] = GridCell(state=state)
        children = (
            select(t.flow_run_id, t.task_slug, t.state_type, func.count())
            .where(t.flow_run_id.in_(ids), t.map_index >= 0)
            .group_by(t.flow_run_id, t.task_slug, t.state_type)
        )
        for run_id, slug, state, count in session.execute(children):
            cell = cells[run_id].setdefault(slug, GridCell(state=StateType.MAPPED))
            cell.counts[state.value] = count
    return FlowGrid(runs=found, cells=cells)
