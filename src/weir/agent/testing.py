"""Helpers for tests that drive an agent pass by pass (any kind of agent)."""

from __future__ import annotations

import time
from collections.abc import Callable

from weir.agent.base import Agent


def drive(agent: Agent, until: Callable[[], bool], timeout: float = 30.0) -> None:
    """Run the agent's passes until ``until()`` holds, or raise TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Agent {agent.name}: the awaited condition did not come.")
        agent.run_once(wait=0.2)
        time.sleep(0.05)
