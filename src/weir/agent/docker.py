"""The docker agent: each flow run in a container of its own, through the Docker Engine API.

It is the :class:`~weir.agent.base.Agent` loop (claim, launch, reap, heartbeat,
hand back) with a container standing in for the process: :class:`RunContainer`
has the process's ``pid``, ``poll()``, ``tail()`` and ``stop()``, so a
container that exits non-zero, is killed or runs out of memory is reaped like a
crashed process (scheduled again up to ``process_retries`` times, then
``Failed`` with the exit code and the container's last log lines).

A run's image is the flow's run config ``{"image": ...}`` if it names one, else
the image its Docker storage built, else the agent's ``image``. The container
runs ``python -m weir execute flow-run ID`` (``command_factory`` changes it)
with ``WEIR_API_URL``, ``WEIR_API_KEY``, ``WEIR_CHECKPOINTING=true``, the
agent's ``env``, the run config's ``env`` and ``WEIR_FLOW_RUN_ATTEMPT`` (the
attempt the claim gave the run, which the process writes as); ``network`` and ``volumes`` are
the agent's (``--network host`` lets a container reach a server on the agent's
loopback). Finished containers are removed once their end has been looked at.

Only the ``docker`` Python SDK talks to the engine (no ``docker`` command), so
Docker's daemon and podman's service work alike.
"""

from __future__ import annotations

import logging
import signal
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from weir.agent.base import Agent, Launched, short
from weir.agent.process import MAX_LINE, TAIL_LINES
from weir.client.settings import ATTEMPT_ENV
from weir.exceptions import ConfigurationError
from weir.schemas import responses, specs
from weir.storage.docker import connect_engine

if TYPE_CHECKING:
    from docker.client import DockerClient
    from docker.models.containers import Container

logger = logging.getLogger(__name__)

CommandFactory = Callable[[responses.FlowRun], Sequence[str]]
#: The label every container this agent starts carries (with the run's id).
RUN_LABEL = "io.weir.flow-run-id"


def container_command(run: responses.FlowRun) -> list[str]:
    """``python -m weir execute flow-run ID``, with the image's ``python``."""
    return ["python", "-m", "weir", "execute", "flow-run", str(run.id)]


def parse_volume(spec: str) -> str:
    """Check a ``HOST:CONTAINER[:ro|rw]`` bind mount and return it."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]) or not parts[1].startswith("/"):
        raise ConfigurationError(
            f"The volume {spec!r} is not HOST_PATH:CONTAINER_PATH[:ro|rw] "
            "(e.g. /data:/data:ro); the container path must be absolute."
        )
    if len(parts) == 3 and parts[2] not in ("ro", "rw"):
        raise ConfigurationError(f"The volume {spec!r} ends in {parts[2]!r}; use ':ro' or ':rw'.")
    return spec


def parse_env(items: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict (a ``KEY`` alone is refused: say its value)."""
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigurationError(
                f"The environment variable {item!r} is not KEY=VALUE (e.g. MODE=prod)."
            )
        env[key] = value
    return env


def exit_code(state: Mapping[str, Any]) -> int:
    """A container's exit code as a process's: 128+N (killed by signal N) becomes -N."""
    code = int(state.get("ExitCode") or 0)
    if 128 < code < 128 + 65:
        try:
            return -signal.Signals(code - 128).value
        except ValueError:
            return code
    return code


def _line(raw: bytes) -> str:
    """One line of a log as text, cut to MAX_LINE characters."""
    line = raw.decode("utf-8", "replace").rstrip("\r")
    return line if len(line) <= MAX_LINE else line[:MAX_LINE] + " …"


class RunContainer:
    """A started container, seen as the agent sees a process (pid, poll, tail, stop)."""

    def __init__(self, container: Container, image: str) -> None:
        self.container = container
        self.image = image
        self.id: str = container.id or ""
        #: The container's main process on the engine's host (0 once it has ended).
        self.pid: int = int(container.attrs.get("State", {}).get("Pid") or 0)
        self._code: int | None = None
        self._notes: list[str] = []

    def poll(self) -> int | None:
        """The exit code once the container has stopped, else None (also if unreachable)."""
        from docker.errors import APIError, NotFound
        from requests.exceptions import RequestException

        if self._code is not None:
            return self._code
        try:
            self.container.reload()
        except NotFound:
            self._notes.append(f"The container {self.id[:12]} was removed while it ran.")
            self._code = -signal.SIGKILL.value
            return self._code
        except (APIError, RequestException) as exc:
            # The engine did not answer: look again next pass rather than guess an end.
            logger.warning("Container %s: the engine did not answer (%s).", self.id[:12], exc)
            return None
        state = self.container.attrs.get("State", {})
        if state.get("Status") not in ("exited", "dead", "stopped"):
            return None
        if state.get("OOMKilled"):
            self._notes.append(f"The container {self.id[:12]} ran out of memory (OOMKilled).")
        if state.get("Error"):
            self._notes.append(f"The engine says: {state['Error']}")
        self._code = exit_code(state)
        return self._code

    def tail(self, wait: float = 2.0) -> list[str]:
        """The container's last log lines (stdout and stderr), after what the engine said.

        A failed container whose log reads empty is read again for up to ``wait`` s, in
        case the engine reported the exit before the last lines reached the log.
        """
        lines = self._read_log()
        deadline = time.monotonic() + wait
        while not lines and self._code not in (None, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
            lines = self._read_log()
        return [*self._notes, *lines]

    def _read_log(self) -> list[str]:
        """The log's last TAIL_LINES lines, read as a stream through a bounded buffer.

        Not the API's ``tail=N``: one engine (podman 4) sometimes answers it with a
        blank line where the last line was.
        """
        from docker.errors import APIError
        from requests.exceptions import RequestException

        kept: deque[str] = deque(maxlen=TAIL_LINES)
        partial = b""
        try:
            for chunk in self.container.logs(stdout=True, stderr=True, stream=True):
                *whole, partial = (partial + chunk).split(b"\n")
                kept.extend(_line(raw) for raw in whole)
        except (APIError, RequestException) as exc:
            return [f"(The container's log could not be read: {exc}.)"]
        if partial:
            kept.append(_line(partial))
        return list(kept)

    def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` s (the engine does both); the exit code."""
        from docker.errors import APIError
        from requests.exceptions import RequestException

        try:
            self.container.stop(timeout=max(1, round(timeout)))
        except (APIError, RequestException) as exc:
            logger.warning("Container %s: could not be stopped: %s", self.id[:12], exc)
        code = self.poll()
        return code if code is not None else -signal.SIGKILL.value

    def remove(self) -> None:
        """Remove the container (it has ended); a container already gone is fine."""
        from docker.errors import APIError, NotFound
        from requests.exceptions import RequestException

        try:
            self.container.remove(force=True)
        except NotFound:
            pass
        except (APIError, RequestException) as exc:
            logger.warning("Container %s: could not be removed: %s", self.id[:12], exc)


class DockerAgent(Agent):
    """Runs each flow run in a container, started through a Docker-API engine."""

    type = "docker"

    def __init__(
        self,
        *args: Any,
        base_url: str | None = None,
        image: str | None = None,
        network: str | None = None,
        volumes: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        command_factory: CommandFactory = container_command,
        engine: DockerClient | None = None,
        **kwargs: Any,
    ) -> None:
        # The engine first: an agent that cannot reach it should not register anywhere.
        self.engine = engine or connect_engine(base_url)
        super().__init__(*args, **kwargs)
        self.volumes = [parse_volume(v) for v in volumes]
        self.network = network
        self.image = image
        self.env = dict(env or {})
        self.command_factory = command_factory
        self._flows: dict[uuid.UUID, responses.Flow] = {}

    # -- launching -----------------------------------------------------------------------

    def launch(self, run: responses.FlowRun) -> RunContainer:
        from docker.errors import DockerException

        flow = self._flow(run.flow_id)
        image = self.image_of(flow)
        self._ensure_image(image)
        try:
            container = self.engine.containers.create(
                image,
                self.command_factory(run),
                environment={**self.container_env(flow), ATTEMPT_ENV: str(run.attempt)},
                labels={RUN_LABEL: str(run.id), "io.weir.agent": self.name},
                name=f"weir-{run.id.hex[:12]}-{uuid.uuid4().hex[:4]}",
                network_mode=self.network,
                volumes=list(self.volumes),
            )
        except DockerException as exc:
            raise OSError(f"the engine did not create a container from {image}: {exc}") from exc
        try:
            container.start()
            container.reload()
        except DockerException as exc:
            RunContainer(container, image).remove()
            raise OSError(f"the container from {image} did not start: {exc}") from exc
        started = RunContainer(container, image)
        self.say(f"run {short(run.id)}: container {started.id[:12]} from image {image}.")
        return started

    def _flow(self, flow_id: uuid.UUID) -> responses.Flow:
        if flow_id not in self._flows:
            self._flows[flow_id] = self.client.get_flow(flow_id)
        return self._flows[flow_id]

    def image_of(self, flow: responses.Flow) -> str:
        """The run config's image, else the Docker storage's, else the agent's; or a ValueError."""
        config = specs.run_config(flow.run_config)
        config.require("docker", ("DockerRun", "UniversalRun"))
        storage = flow.storage if isinstance(flow.storage, dict) else {}
        for image in (
            config.image,
            storage.get("image") if storage.get("type") == "Docker" else None,
            self.image,
        ):
            if isinstance(image, str) and image:
                return image
        raise ValueError(
            f"flow '{flow.name}' names no image: give it run_config={{'image': 'NAME:TAG'}} or "
            "Docker storage, or start the agent with a default image"
        )

    def container_env(self, flow: responses.Flow) -> dict[str, str]:
        """The agent's ``env``, what weir needs, then the run config's variables."""
        env = dict(self.env)
        env["WEIR_API_URL"] = self.api_url
        if self.api_key:
            env["WEIR_API_KEY"] = self.api_key
        env["WEIR_CHECKPOINTING"] = "true"
        # Lines reach the container's log (and failure messages) as they are printed.
        env["PYTHONUNBUFFERED"] = "1"
        env.update(specs.run_config(flow.run_config).env_vars())
        return env

    def _ensure_image(self, image: str) -> None:
        """Pull ``image`` unless the engine has it already; OSError naming it if that fails."""
        from docker.errors import APIError, ImageNotFound

        try:
            self.engine.images.get(image)
            return
        except ImageNotFound:
            pass
        self.say(f"pulling image {image}.")
        try:
            self.engine.images.pull(image)
            self.engine.images.get(image)
        except APIError as exc:
            raise OSError(
                f"the image {image} is not in the engine and could not be pulled "
                f"({exc.explanation or exc}); check the name, or build or pull it on the engine"
            ) from exc

    # -- after the end ---------------------------------------------------------------------

    def reap(self) -> list[Launched]:
        """The base's reaping, then each ended run's container is removed."""
        ended = super().reap()
        for launched in ended:
            if isinstance(launched.process, RunContainer):
                launched.process.remove()
        return ended

    def shutdown(self, grace_period: float | None = None) -> None:
        """The base's shutdown; the containers it stopped are removed as well."""
        containers = [
            launched.process
            for launched in self.running.values()
            if isinstance(launched.process, RunContainer)
        ]
        super().shutdown(grace_period)
        for container in containers:
            container.remove()
        self.engine.close()


__all__ = ["DockerAgent", "RunContainer", "container_command", "parse_env", "parse_volume"]
