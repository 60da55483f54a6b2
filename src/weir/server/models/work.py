"""Claiming due runs for an agent: atomically, and never the same run twice.

A run is due when it waits (Scheduled, Retrying or Pending) and its start time
has come. An agent may take it when all of the run's labels are among the
agent's. Claimed runs move to ``Submitted`` in the same transaction, each with
a new attempt number (see ``weir.server.models.attempts``). On
PostgreSQL, ``FOR UPDATE SKIP LOCKED`` lets concurrent claimers pass over each
other's rows; on SQLite the single writer does the same job.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from weir.schemas.states import StateData
from weir.server.database import orm
from weir.server.models import agents, states, traces
from weir.state_types import CLAIMABLE_TYPES, StateType


def claim(
    session: Session,
    labels: list[str],
    limit: int,
    now: float,
    *,
    agent_id: uuid.UUID | None = None,
    skip_locked: bool = False,
) -> list[orm.FlowRun]:
    """Move up to ``limit`` due runs the labels allow to Submitted and return them."""
    agent = agents.read(session, agent_id) if agent_id is not None else None
    query = _DUE_RUNS_SKIP_LOCKED if skip_locked else _DUE_RUNS
    claimed = list(session.scalars(query, {"now": now, "labels": labels, "limit": limit}))
    by = f"agent {agent.name} ({agent.id})" if agent else "an agent"
    for r in claimed:
        state = StateData(type=StateType.SUBMITTED, message=f"Claimed by {by}.", timestamp=now)
        states.apply(session, r, state, now)
        # A new attempt: a process still running an older one can write nothing more.
        r.attempt += 1
        r.agent_id = agent.id if agent else None
        traces.record(
            session,
            r.id,
            "claimed",
            now,
            {
                "agent_id": str(agent.id) if agent else None,
                "agent_name": agent.name if agent else None,
                "attempt": r.attempt,
            },
        )
    if agent is not None:
        agent.last_heartbeat = now
    session.flush()
    return claimed


def check_agent(session: Session, agent_id: uuid.UUID | None) -> None:
    """An unknown ``agent_id`` is a NotFound, as for ``claim``."""
    if agent_id is not None and session.scalar(_AGENT, {"agent": agent_id}) is None:
        agents.read(session, agent_id)  # raises NotFound, in its words


def first_start(session: Session, labels: list[str]) -> float | None:
    """The earliest start time of the waiting runs these labels allow (due when it has
    come), if any wait: whether ``claim`` would find a run, and else when one falls
    due, in one query and without a lock."""
    found = session.scalar(_FIRST_START, {"labels": labels})
    return None if found is None else float(found)


def next_due(session: Session, labels: list[str], now: float) -> float | None:
    """When the next run these labels allow falls due (its start time), if one waits."""
    found = session.scalar(_NEXT_DUE, {"now": now, "labels": labels})
    return None if found is None else float(found)


def _allowed() -> ColumnElement[bool]:
    """A run all of whose labels are among the ``labels`` parameter."""
    foreign_label = exists().where(
        orm.FlowRunLabel.flow_run_id == orm.FlowRun.id,
        orm.FlowRunLabel.label.not_in(bindparam("labels", expanding=True)),
    )
    return ~foreign_label


# The claim's statements, built once with parameters: an idle agent's claim runs them
# over and over, and building them cost as much as running them.
_WAITING = orm.FlowRun.state_type.in_(CLAIMABLE_TYPES)
#: Due runs (``now``) the ``labels`` allow, the longest due first, at most ``limit``.
_DUE_RUNS = (
    select(orm.FlowRun)
    .where(_WAITING, orm.FlowRun.start_time <= bindparam("now"), _allowed())
    .order_by(orm.FlowRun.start_time)
    .limit(bindparam("limit"))
)
_DUE_RUNS_SKIP_LOCKED = _DUE_RUNS.with_for_update(skip_locked=True, of=orm.FlowRun)


def _first_start(*conditions: ColumnElement[bool]) -> Select[Any]:
    """The earliest start time of a waiting run the ``labels`` allow (and ``conditions``):
    the first of each waiting state's, each found walking the (state_type, start_time)
    index in order, so that a backlog of future runs is not read whole and sorted, as a
    min() over the three states had SQLite do."""
    firsts = [
        select(orm.FlowRun.start_time)
        .where(orm.FlowRun.state_type == state, *conditions, _allowed())
        .order_by(orm.FlowRun.start_time)
        .limit(1)
        .subquery()
        for state in CLAIMABLE_TYPES
    ]
    return select(func.min(union_all(*(select(f) for f in firsts)).subquery().c[0]))


_FIRST_START = _first_start()
#: The start time of the next run the ``labels`` allow that is not due yet (``now``).
_NEXT_DUE = _first_start(orm.FlowRun.start_time > bindparam("now"))
_AGENT = select(orm.Agent.id).where(orm.Agent.id == bindparam("agent"))


def read_runs(session: Session, run_ids: list[uuid.UUID]) -> list[orm.FlowRun]:
    """The runs of ``run_ids`` that exist, in no particular order (one query)."""
    return list(session.scalars(select(orm.FlowRun).where(orm.FlowRun.id.in_(set(run_ids)))))
