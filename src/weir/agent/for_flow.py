"""``flow.run_agent()``: a local agent in this process for one registered flow.

Prefect 1's ``Flow.run_agent`` started an agent with the flow's labels, so that a
script could register its flow and serve its runs in one go (its docs' pause
and approval idiom does). Here the agent takes the labels of the flow's current
version on the server, so it claims that flow's runs (and any other run those
labels allow), and serves until SIGTERM or Ctrl-C, as ``weir agent start`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from weir.agent.base import install_signal_handlers
from weir.agent.local import LocalAgent
from weir.client import Client
from weir.exceptions import ConfigurationError

if TYPE_CHECKING:
    from weir.core.flow import Flow

logger = logging.getLogger(__name__)


def run_agent(flow: Flow, *, show_flow_logs: bool = False, api_key: str | None = None) -> None:
    """Serve the runs of ``flow``'s registered version here until stopped."""
    client = Client(api_key=api_key)
    try:
        versions = client.list_flows(name=flow.name)
        if not versions:
            raise ConfigurationError(
                f"Flow '{flow.name}' is not registered on {client.api_url}, so no run of it "
                "can come: call flow.register() before flow.run_agent()."
            )
        labels = versions[0].labels
        agent = LocalAgent(client=client, labels=labels, show_output=show_flow_logs, echo=_echo())
        restore = install_signal_handlers(agent)
        try:
            agent.register()
            agent.say(f"serving the runs of flow '{flow.name}' (labels: {labels or 'none'}).")
            agent.serve()
        finally:
            restore()
    finally:
        client.close()


def _echo() -> Callable[[str], None] | None:
    """Print the agent's lines unless its logger prints them already (the script set up
    logging, or weir did for a run): once, either way."""
    agent_logger = logging.getLogger("weir.agent.base")
    if agent_logger.isEnabledFor(logging.INFO) and agent_logger.hasHandlers():
        return None
    return print
