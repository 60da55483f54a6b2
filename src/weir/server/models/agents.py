"""Agents: registered by name and labels, alive while they heartbeat."""

from __future__ import annotations

import uuid

from sqlalchemy import select
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
    return agent


def list_all(session: Session, limit: int, offset: int) -> list[orm.Agent]:
    query = select(orm.Agent).order_by(orm.Agent.created).limit(limit).offset(offset)
    return list(session.scalars(query))
