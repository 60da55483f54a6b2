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

from sqlalchemy import exists, func, select
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
    dry_run: bool = False,
) -> list[orm.FlowRun]:
    """Move up to ``limit`` due runs the labels allow to Submitted and return them.

    With ``dry_run`` the runs are only found, not claimed.
    """
    agent = agents.read(session, agent_id) if agent_id is not None else None
    run = orm.FlowRun
    query = (
        select(run)
        .where(run.state_type.in_(CLAIMABLE_TYPES), run.start_time <= now, _allowed(labels))
        .order_by(run.start_time)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True, of=run)
    claimed = list(session.scalars(query))
    if dry_run:
        return claimed
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


def next_due(session: Session, labels: list[str], now: float) -> float | None:
    """When the next run these labels allow falls due (its start time), if one waits."""
    run = orm.FlowRun
    query = select(func.min(run.start_time)).where(
        run.state_type.in_(CLAIMABLE_TYPES), run.start_time > now, _allowed(labels)
    )
    found = session.scalar(query)
    return None if found is None else float(found)


def _allowed(labels: list[str]) -> ColumnElement[bool]:
    """A run all of whose labels are among ``labels``."""
    foreign_label = exists().where(
        orm.FlowRunLabel.flow_run_id == orm.FlowRun.id, orm.FlowRunLabel.label.not_in(labels)
    )
    return ~foreign_label


def read_runs(session: Session, run_ids: list[uuid.UUID]) -> list[orm.FlowRun]:
    """The runs of ``run_ids`` that exist, in no particular order (one query)."""
    return list(session.scalars(select(orm.FlowRun).where(orm.FlowRun.id.in_(set(run_ids)))))
