"""The local agent: each flow run in a subprocess of this machine.

Each claimed run becomes ``python -m weir execute flow-run ID`` (the same
interpreter as the agent), with the agent's environment plus ``WEIR_API_URL``,
``WEIR_API_KEY`` (when there is one), ``WEIR_CHECKPOINTING=true`` (so that a
run handed back or rescheduled resumes from its finished tasks),
``WEIR_FLOW_RUN_ATTEMPT`` (the attempt the claim gave the run, which the process
writes as) and the variables of the flow's run config (``LocalRun(env={...})`` or
``run_config={"env": {...}}``), in the run config's ``working_dir`` if it names one.

Starting Python and importing weir takes longer than everything else between
a claim and a running flow (most of a second of CPU, against a few ms for a
one-task run), so the process is started one of two ways (``start_method``):

- ``"fork"`` (the default on Linux): one fork server with those imports done
  (``weir.agent.forkserver``) forks a child per run, which becomes
  ``weir execute flow-run ID``; each run is still a process of its own.
- ``"spawn"``: a new interpreter per run. Unless ``prestart=False``, the agent
  keeps one spare process started ahead with those imports done
  (``weir.agent.warm``); a claimed run is handed to it and becomes
  ``weir execute flow-run ID`` in it at once. The next spare starts when no
  run is in flight, or ``spare_delay`` seconds after the last launch: its
  imports take a core for the better part of a second, which a run that just
  started should not have to share.

Either way, the libraries named in ``preload`` (``--preload pandas``) are
imported once in the warm process, so that no run pays for their import (see
``weir.agent.preload``).

Runs whose run config sets environment variables or a working directory
always get a process of their own, spawned with them (a variable read at
start-up, such as ``PYTHONPATH``, would not take effect in a fork).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from weir.agent import preload as preloading
from weir.agent.base import Agent, RunProcess
from weir.agent.forkserver import ForkServer, ForkServerGone
from weir.agent.process import FlowRunProcess
from weir.client.settings import ATTEMPT_ENV
from weir.exceptions import ConfigurationError
from weir.schemas import responses, specs

logger = logging.getLogger(__name__)

CommandFactory = Callable[[responses.FlowRun], Sequence[str]]

#: How the local agent starts a run's process (see the module's docstring).
START_METHODS = ("fork", "spawn")


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
        prestart: bool = True,
        spare_delay: float = 2.0,
        start_method: str | None = None,
        preload: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.start_method = _start_method(start_method)
        try:
            #: Libraries the fork server (or the spare process) imports once for every run.
            self.preload = preloading.check(preload)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self.command_factory = command_factory
        self.env = dict(env or {})
        self.show_output = show_output
        self.cwd = cwd
        # A spare stands in for the default command only; another command starts cold.
        self.prestart = prestart and command_factory is execute_command
        self.spare_delay = spare_delay
        self._spare: FlowRunProcess | None = None
        self._last_launch = float("-inf")
        self._run_config_by_flow: dict[uuid.UUID, specs.RunConfigSpec] = {}
        # The fork server forks the default command only; another command is spawned.
        self.forking = self.start_method == "fork" and command_factory is execute_command
        self._forkserver: ForkServer | None = None
        if self.preload and not (self.forking or self.prestart):
            raise ConfigurationError(
                "--preload needs a warm process to import into: the fork server "
                "(--start-method fork) or, with --start-method spawn, the spare process "
                "(without --no-prestart)."
            )

    def launch(self, run: responses.FlowRun) -> RunProcess:
        config = self._run_config(run.flow_id)
        run_env = config.env_vars()
        # A spare was started in the agent's directory with the agent's environment.
        own_process = bool(run_env) or config.working_dir is not None
        process: RunProcess | None = None
        if not own_process:
            process = self._fork(run) if self.forking else self._take_spare(run)
        if process is None:
            process = FlowRunProcess(
                self.command_factory(run),
                {**self.base_env(), **run_env, **_attempt_env(run)},
                on_line=self._printer(run),
                cwd=config.working_dir or self.cwd,
            )
        self._last_launch = time.monotonic()
        return process

    def base_env(self) -> dict[str, str]:
        """The agent's environment and its ``env``, then what weir needs."""
        env = dict(os.environ)
        env.update(self.env)
        env["WEIR_API_URL"] = self.api_url
        if self.api_key:
            env["WEIR_API_KEY"] = self.api_key
        env["WEIR_CHECKPOINTING"] = "true"
        # Lines reach the agent (and its failure messages) as they are printed.
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def process_env(self, run: responses.FlowRun) -> dict[str, str]:
        """The environment of a run's process: the base, the run config's variables, its attempt."""
        env = self._run_config(run.flow_id).env_vars()
        return {**self.base_env(), **env, **_attempt_env(run)}

    def _run_config(self, flow_id: uuid.UUID) -> specs.RunConfigSpec:
        """The flow's run config, read once per flow; a ValueError when this agent cannot run it."""
        if flow_id not in self._run_config_by_flow:
            # Read as the server checked it at registration; a bad one is a ValueError.
            config = specs.run_config(self.client.get_flow(flow_id).run_config)
            config.require("local", ("LocalRun", "UniversalRun"))
            self._run_config_by_flow[flow_id] = config
        return self._run_config_by_flow[flow_id]

    # -- the fork server ---------------------------------------------------------------

    def _fork(self, run: responses.FlowRun) -> RunProcess | None:
        """The run's process, forked by the fork server; None when it cannot (spawn then)."""
        server = self._live_forkserver()
        if server is None:
            return None
        try:
            return server.fork(str(run.id), _attempt_env(run), self._printer(run))
        except ForkServerGone as exc:
            logger.warning(
                "Agent %s: %s; run %s gets a process of its own.", self.name, exc, run.id
            )
            return None

    def _live_forkserver(self) -> ForkServer | None:
        """The fork server, started (or started again) when needed; None when forking is off."""
        if not self.forking or self.stopping:
            return None
        server = self._forkserver
        if server is not None and server.alive():
            return server
        if server is not None:
            lines = "\n".join(server.process.tail(wait=0.5)) or "(no output)"
            code = server.process.poll()
            if not server.forked:
                # A server that dies before its first run would die again: say why once.
                self.forking = False
                self._forkserver = None
                logger.warning(
                    "Agent %s: the fork server %s exited with code %s before its first run; "
                    "spawning each run from now on. Its output:\n%s",
                    self.name,
                    server.pid,
                    code,
                    lines,
                )
                return None
            logger.warning(
                "Agent %s: the fork server %s exited with code %s; starting another. "
                "Its output:\n%s",
                self.name,
                server.pid,
                code,
                lines,
            )
        self._forkserver = ForkServer(self.base_env(), cwd=self.cwd, libraries=self.preload)
        return self._forkserver

    # -- the spare process -------------------------------------------------------------

    def prepare(self) -> None:
        """Have the fork server up, or a spare process starting (unless too soon)."""
        if self.forking:
            self._live_forkserver()
            return
        if not self.prestart or self.stopping:
            return
        if self.running and time.monotonic() - self._last_launch < self.spare_delay:
            return  # the run just launched has the machine to itself for now
        spare = self._spare
        if spare is not None:
            code = spare.poll()
            if code is None:
                return
            # A spare that dies unused would die again: say why once, then start cold.
            self.prestart = False
            self._spare = None
            lines = "\n".join(spare.tail(wait=0.5)) or "(no output)"
            logger.warning(
                "Agent %s: the spare process %s exited with code %s before it was used; "
                "starting each run cold from now on. Its output:\n%s",
                self.name,
                spare.pid,
                code,
                lines,
            )
            return
        self._spare = FlowRunProcess(
            [sys.executable, "-m", "weir.agent.warm"],
            # The spare exits when its parent is no longer this process (see weir.agent.warm).
            {
                **self.base_env(),
                **preloading.env(self.preload),
                "WEIR_AGENT_PID": str(os.getpid()),
            },
            cwd=self.cwd,
            stdin_pipe=True,
        )

    def claim_wait_now(self) -> float:
        wait = super().claim_wait_now()
        if not self.forking and self.prestart and self._spare is None and self.running:
            # A spare is due when the runs end: notice their end within a quarter second.
            return min(wait, 0.25)
        return wait

    def _take_spare(self, run: responses.FlowRun) -> FlowRunProcess | None:
        spare, self._spare = self._spare, None
        if spare is None or spare.poll() is not None:
            return None
        spare.on_line = self._printer(run)
        try:
            order = {"flow_run_id": str(run.id), "env": _attempt_env(run)}
            spare.send(json.dumps(order) + "\n")
        except OSError as exc:
            logger.warning("Agent %s: the spare process could not take a run: %s", self.name, exc)
            spare.stop(timeout=1)
            return None
        return spare

    def close(self) -> None:
        """Let the fork server and the spare process go (their input closes; they exit)."""
        server, self._forkserver = self._forkserver, None
        if server is not None:
            server.close()
        spare, self._spare = self._spare, None
        if spare is None:
            return
        try:
            spare.send("")
        except OSError:
            pass  # it had gone already
        try:
            spare.wait(5)
        except subprocess.TimeoutExpired:
            spare.stop(timeout=1)

    def _printer(self, run: responses.FlowRun) -> Callable[[str], None] | None:
        if not self.show_output:
            return None
        prefix = f"[{run.flow_name} {str(run.id)[:8]}] "

        def show(line: str) -> None:
            sys.stderr.write(prefix + line + "\n")

        return show


def _start_method(given: str | None) -> str:
    """``fork`` or ``spawn``; by default fork where the system can (Linux), else spawn."""
    if given is None:
        return "fork" if sys.platform == "linux" else "spawn"
    if given not in START_METHODS:
        raise ConfigurationError(
            f"start_method must be one of {', '.join(START_METHODS)} (it is {given!r})."
        )
    if given == "fork" and not hasattr(os, "fork"):
        raise ConfigurationError(
            "start_method='fork' needs os.fork, which this system lacks; use 'spawn'."
        )
    return given


def _attempt_env(run: responses.FlowRun) -> dict[str, str]:
    """What tells the run's process which attempt it writes as."""
    return {ATTEMPT_ENV: str(run.attempt)}
