"""The local agent: each flow run in a subprocess of this machine.

Each claimed run becomes ``python -m weir execute flow-run ID`` (the same
interpreter as the agent), with the agent's environment plus ``WEIR_API_URL``,
``WEIR_API_KEY`` (when there is one), ``WEIR_CHECKPOINTING=true`` (so that a
run handed back or rescheduled resumes from its finished tasks) and the
variables of the flow's run config (``run_config={"env": {...}}``).
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from weir.agent.base import Agent
from weir.agent.process import FlowRunProcess
from weir.schemas import responses

logger = logging.getLogger(__name__)

CommandFactory = Callable[[responses.FlowRun], Sequence[str]]


def execute_command(run: responses.FlowRun) -> list[str]:
    """``python -m weir execute flow-run ID`` with the agent's own interpreter."""
    return [sys.executable, "-m", "weir", "execute", "flow-run", str(run.id)]


class LocalAgent(Agent):
    """Runs each flow run in a subprocess on this machine."""

    type = "local"

    def __init__(
        self,
        *args: Any,
        command_factory: CommandFactory = execute_command,
        env: Mapping[str, str] | None = None,
        show_output: bool = False,
        cwd: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.command_factory = command_factory
        self.env = dict(env or {})
        self.show_output = show_output
        self.cwd = cwd
        self._run_env_by_flow: dict[uuid.UUID, dict[str, str]] = {}

    def launch(self, run: responses.FlowRun) -> FlowRunProcess:
        env = self.process_env(run)
        on_line = self._printer(run) if self.show_output else None
        return FlowRunProcess(self.command_factory(run), env, on_line=on_line, cwd=self.cwd)

    def process_env(self, run: responses.FlowRun) -> dict[str, str]:
        """The agent's environment, the run config's variables, then what weir needs."""
        env = dict(os.environ)
        env.update(self.env)
        env.update(self._run_env(run.flow_id))
        env["WEIR_API_URL"] = self.api_url
        if self.api_key:
            env["WEIR_API_KEY"] = self.api_key
        env["WEIR_CHECKPOINTING"] = "true"
        # Lines reach the agent (and its failure messages) as they are printed.
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _run_env(self, flow_id: uuid.UUID) -> dict[str, str]:
        if flow_id not in self._run_env_by_flow:
            run_config = self.client.get_flow(flow_id).run_config or {}
            given = run_config.get("env") if isinstance(run_config, dict) else None
            self._run_env_by_flow[flow_id] = (
                {str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {}
            )
        return self._run_env_by_flow[flow_id]

    def _printer(self, run: responses.FlowRun) -> Callable[[str], None]:
        prefix = f"[{run.flow_name} {str(run.id)[:8]}] "

        def show(line: str) -> None:
            sys.stderr.write(prefix + line + "\n")

        return show
