"""Helpers for tests that drive an agent pass by pass (any kind of agent)."""

from __future__ import annotations

from collections.abc import Callable

from weir.agent.base import Agent
from weir.utilities.waiting import wait_until


def drive(agent: Agent, until: Callable[[], bool], timeout: float = 30.0) -> None:
    """Run the agent's passes until ``until()`` holds, or raise TimeoutError after ``timeout``."""
    wait_until(
        until,
        timeout,
        step=lambda: agent.run_once(wait=0.2),
        why=f"Agent {agent.name} was driven all that time.",
    )
