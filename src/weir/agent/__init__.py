"""Agents: claim due flow runs from the server and run each in a process.

``LocalAgent`` runs ``weir execute flow-run ID`` in a process of this machine per run
(forked from its fork server, or spawned);
``Agent`` is the base (claim, launch, reap, heartbeat, hand back) for others.
"""

from __future__ import annotations

from weir.agent.base import Agent, Launched, install_signal_handlers
from weir.agent.local import LocalAgent, execute_command

__all__ = ["Agent", "Launched", "LocalAgent", "execute_command", "install_signal_handlers"]
