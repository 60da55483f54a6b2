"""Agents: registered by name and labels, alive while they heartbeat, stopped when they
say so (or removed by an admin)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from weir.schemas import actions
from weir.server.database import orm
from weir.server.errors import NotFound
from weir.state_types import RUNNING_TYPES, StateType

#: The states of a run whose process an agent has started.
_STARTED = sorted({*RUNNING_TYPES, StateType.SUBMITTED})


def register(session: Session, action: actions.AgentCreate, now: float) -> orm.Agent:
    agent = orm.Agent(
        name=action.name, type=action.type, labels=sorted(set(action.labels)), last_heartbeat=now
    )
    session.add(agent)
    session.flush()
    return agent


def read(session: Session, agent_id: uuid.UUID) -> orm.Agent:
    agent = session.get(orm.Agent, agent_id)
    if agent is None:
        raise NotFound(f"There is no agent with id {agent_id}; register the agent first.")
    return agent


def heartbeat(session: Session, agent_id: uuid.UUID, now: float) -> orm.Agent:
    agent = read(session, agent_id)
    agent.last_heartbeat = now
    agent.stopped_at = None  # an agent that beats again is running again
    return agent


def live_runs(session: Session, runs: list[actions.LiveRun], now: float) -> int:
    """Note that these runs' processes are alive, as their agent sees them; how many.

    Only a run still started (Submitted, Running, Cancelling) at the attempt given
    counts: a run taken over since, or ended, is left alone. Lazarus then judges a
    run's silence from the latest of its process's heartbeats and its agent's, so a
    process whose own heartbeat thread is starved (a task holding the GIL in a long
    C call) is not presumed dead, rescheduled and run twice while its agent sees it
    alive.
    """
    wanted = {run.id: run.attempt for run in runs}
    query = select(orm.FlowRun).where(
        orm.FlowRun.id.in_(list(wanted)), orm.FlowRun.state_type.in_(_STARTED)
    )
    if session.get_bind().dialect.name != "sqlite":
        # NO KEY UPDATE, skipping rows a claim or a state write holds: see flow_runs.read.
        query = query.with_for_update(skip_locked=True, key_share=True)
    noted = 0
    for run in session.scalars(query):
        if run.attempt == wanted[run.id]:
            run.heartbeat = now
            noted += 1
    return noted


def stopped(session: Session, agent_id: uuid.UUID, now: float) -> orm.Agent:
    """The agent stopped on purpose: the UI shows it stopped, not silent."""
    agent = read(session, agent_id)
    agent.stopped_at = now
    return agent


def delete(session: Session, agent_id: uuid.UUID) -> None:
    """Forget the agent; its runs keep their history (their agent becomes unknown)."""
    session.execute(
        update(orm.FlowRun).where(orm.FlowRun.agent_id == agent_id).values(agent_id=None)
    )
    session.delete(read(session, agent_id))


def list_all(session: Session, limit: int, offset: int) -> list[orm.Agent]:
    query = select(orm.Agent).order_by(orm.Agent.created).limit(limit).offset(offset)
    return list(session.scalars(query))
