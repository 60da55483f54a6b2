"""Agents: registered by name and labels, alive while they heartbeat, stopped when they
say so (or removed by an admin)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from weir.schemas import actions
from weir.server.database import orm
from weir.server.errors import NotFound


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
