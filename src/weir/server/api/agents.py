"""Agents: register, heartbeat, stopped, list, delete."""

from __future__ import annotations

import uuid

from fastapi import Depends, Query

from weir.schemas import actions, responses
from weir.server.api.dependencies import Context, admin_only, api_router
from weir.server.models import agents

router = api_router("/agents", "agents")

#: Removing an agent drops it from every list: admins only.
_ADMIN = [Depends(admin_only("Removing an agent"))]


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
def agent_heartbeat(
    agent_id: uuid.UUID, ctx: Context, action: actions.AgentHeartbeat | None = None
) -> responses.Agent:
    """The agent is alive, and so are the runs it names (their processes run): each
    run's heartbeat is noted too, for its attempt only (an older one's is ignored)."""
    with ctx.db.session(write=True) as session:
        now = ctx.clock()
        agent = agents.heartbeat(session, agent_id, now)
        if action is not None and action.runs:
            agents.live_runs(session, action.runs, now)
        return responses.Agent.model_validate(agent)


@router.post("/{agent_id}/stopped")
def agent_stopped(agent_id: uuid.UUID, ctx: Context) -> responses.Agent:
    """The agent says it stopped on purpose (its next heartbeat, if any, undoes this)."""
    with ctx.db.session(write=True) as session:
        return responses.Agent.model_validate(agents.stopped(session, agent_id, ctx.clock()))


@router.delete("/{agent_id}", status_code=204, dependencies=_ADMIN)
def delete_agent(agent_id: uuid.UUID, ctx: Context) -> None:
    """Remove the agent's record (a stopped or long-gone agent); a running agent that
    heartbeats afterwards is refused and should register again."""
    with ctx.db.session(write=True) as session:
        agents.delete(session, agent_id)
