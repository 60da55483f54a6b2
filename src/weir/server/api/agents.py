"""Agents: register, heartbeat, list."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from weir.schemas import actions, responses
from weir.server.api.dependencies import Context
from weir.server.models import agents

router = APIRouter(prefix="/agents", tags=["agents"])


@router.post("", status_code=201)
def register_agent(action: actions.AgentCreate, ctx: Context) -> responses.Agent:
    with ctx.db.session(write=True) as session:
        return responses.Agent.model_validate(agents.register(session, action, ctx.clock()))


@router.get("")
def list_agents(
    ctx: Context,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> list[responses.Agent]:
    with ctx.db.session() as session:
        return [responses.Agent.model_validate(a) for a in agents.list_all(session, limit, offset)]


@router.get("/{agent_id}")
def read_agent(agent_id: uuid.UUID, ctx: Context) -> responses.Agent:
    with ctx.db.session() as session:
        return responses.Agent.model_validate(agents.read(session, agent_id))


@router.post("/{agent_id}/heartbeat")
def agent_heartbeat(agent_id: uuid.UUID, ctx: Context) -> responses.Agent:
    with ctx.db.session(write=True) as session:
        return responses.Agent.model_validate(agents.heartbeat(session, agent_id, ctx.clock()))
