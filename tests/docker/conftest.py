"""A real Docker-API engine, one live server per session, and a docker agent per test.

The engine is podman's Docker-compatible service on a socket of a temp folder,
with its images, containers and run state under that folder too (``--root``,
``--runroot``, ``--tmpdir``), so the tests touch nothing of the machine's own
engine. Its config is the one that works on machines whose cgroups crun cannot
handle and where raising RLIMIT_NOFILE is not allowed. It is started once per
session. On a machine without podman the tests that need it skip, saying how to
install it (they fail under ``WEIR_REQUIRE_ENGINES=1``, as in CI); an installed
engine that cannot start fails them with the reason.

The test image is a root file system with almost nothing in it (the top-level
folders, and the same ``/bin``, ``/lib``… links as this machine): Python, weir
and the flows come in by read-only bind mounts of this machine's ``/usr``,
Python install, virtualenv and checkout, at the same paths.

(This folder is no package: as one it would be named ``docker`` and hide the
Docker SDK, so the helpers live here and reach the tests as fixtures.)
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from docker.client import DockerClient
from docker.errors import DockerException

import weir
from weir.agent import testing as agent_testing
from weir.agent.docker import DockerAgent
from weir.client import Client
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, clear, missing, temporary_database

CONTAINERS_CONF = """\
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
"""
#: The tag the tests' base image gets.
BASE_IMAGE = "weir-test-base:latest"
#: The checkout (src/weir/__init__.py is three levels down).
CHECKOUT = Path(weir.__file__).resolve().parents[2]


class EngineUnavailable(RuntimeError):
    """The engine could not be started; the message says why."""


class Engine:
    """``podman system service`` started in ``folder``; stop() ends it by its pid."""

    def __init__(self, folder: Path) -> None:
        podman = shutil.which("podman")
        if podman is None:
            raise EngineUnavailable(
                "podman is not installed; install it with `apt-get install -y podman runc` "
                "(.ci/run does)."
            )
        self.folder = folder
        self.socket = folder / "podman.sock"
        self.base_url = f"unix://{self.socket}"
        conf = folder / "containers.conf"
        conf.write_text(CONTAINERS_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(conf)}
        self.log = folder / "service.log"
        self.args = [
            podman,
            "--root",
            str(folder / "root"),
            "--runroot",
            str(folder / "run"),
            "--tmpdir",
            str(folder / "tmp"),
            "--storage-driver",
            "vfs",
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*self.args, "system", "service", "--time=0", self.base_url],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.client = self._connect()

    def _connect(self, timeout: float = 30.0) -> DockerClient:
        deadline = time.monotonic() + timeout
        last = "the socket never appeared"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise EngineUnavailable(
                    f"podman's service exited with code {self.process.returncode}:\n"
                    + self.log.read_text(errors="replace")[-3000:]
                )
            if self.socket.exists():
                try:
                    client = DockerClient(base_url=self.base_url, timeout=60)
                    client.ping()
                    return client
                except DockerException as exc:
                    last = str(exc)
            time.sleep(0.1)
        self.stop()
        raise EngineUnavailable(
            f"podman's service did not answer on {self.socket} within {timeout:.0f} s ({last}):\n"
            + self.log.read_text(errors="replace")[-3000:]
        )

    def stop(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            for container in client.containers.list(all=True):
                try:
                    container.remove(force=True)
                except DockerException:
                    pass  # going away with the engine anyway
            client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def import_base_image(self) -> str:
        """Import the near-empty root file system as BASE_IMAGE; its name."""
        repository, tag = BASE_IMAGE.split(":")
        self.client.api.import_image_from_data(rootfs_tar(), repository=repository, tag=tag)
        self.client.images.get(BASE_IMAGE)  # raises if the import did not take
        return BASE_IMAGE

    def run_check(self, command: list[str], image: str = BASE_IMAGE) -> tuple[int, str]:
        """Run ``command`` in ``image`` with the host mounts; its exit code and output."""
        container = self.client.containers.run(
            image,
            command,
            detach=True,
            volumes=host_volumes(),
            environment=container_env(),
            network_mode="host",
        )
        try:
            code = container.wait(timeout=60)["StatusCode"]
            return code, container.logs().decode(errors="replace")
        finally:
            container.remove(force=True)


#: Top-level folders of the root file system (mount points and scratch space).
ROOT_DIRS = ("usr", "tmp", "etc", "proc", "sys", "dev", "root", "home", "opt", "var", "run")
#: Top-level names that are links into /usr on merged-/usr systems, folders elsewhere.
USR_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


def rootfs_tar() -> bytes:
    """A tar of the top-level folders, and links like this machine's /bin -> usr/bin."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in ROOT_DIRS:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        for name in USR_LINKS:
            path = Path("/") / name
            if path.is_symlink():
                info = tarfile.TarInfo(name)
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(path)
                tar.addfile(info)
            elif path.is_dir():
                info = tarfile.TarInfo(name)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
        data = b"root:x:0:0:root:/root:/bin/sh\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def host_volumes() -> list[str]:
    """Read-only bind mounts that bring this machine's Python, venv and checkout in."""
    paths = [Path("/usr"), Path(sys.base_prefix), Path(sys.prefix), CHECKOUT]
    paths += [
        Path("/") / n
        for n in USR_LINKS
        if (Path("/") / n).is_dir() and not (Path("/") / n).is_symlink()
    ]
    resolved = sorted({p.resolve() for p in paths})
    kept: list[Path] = []
    for path in resolved:
        if not any(parent in kept for parent in path.parents):
            kept.append(path)
    return [f"{p}:{p}:ro" for p in kept]


def container_env() -> dict[str, str]:
    """PATH with the venv's python first; a WEIR_HOME inside the container."""
    return {
        "PATH": f"{sys.prefix}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/root",
        "WEIR_HOME": "/tmp/weir-home",
    }


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """podman's Docker-API service with the tests' base image imported."""
    if shutil.which("podman") is None:
        missing("podman (a Docker-API engine)", "install it with `apt-get install -y podman runc`.")
    try:
        started = Engine(tmp_path_factory.mktemp("engine"))
    except EngineUnavailable as exc:
        pytest.fail(f"The Docker-API engine the docker tests need did not start: {exc}")
    try:
        started.import_base_image()
        code, output = started.run_check(["python", "-c", "import weir; print('ready')"])
        if code != 0:
            pytest.fail(
                f"A container of the engine could not import weir (exit code {code}):\n{output}"
            )
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def live_server() -> Iterator[tuple[LiveServer, Database]]:
    with temporary_database("sqlite") as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as server:
            yield server, db


@pytest.fixture
def api_url(live_server: tuple[LiveServer, Database]) -> str:
    server, db = live_server
    clear(db)
    return server.url


@pytest.fixture
def client(api_url: str) -> Iterator[Client]:
    with Client(api_url) as c:
        yield c


@pytest.fixture
def make_agent(api_url: str, engine: Engine) -> Iterator[Callable[..., DockerAgent]]:
    """``make_agent(**options)``: a DockerAgent on the test engine, host network and mounts."""
    agents: list[DockerAgent] = []

    def make(**options: Any) -> DockerAgent:
        options.setdefault("network", "host")
        options.setdefault("volumes", host_volumes())
        options.setdefault("env", container_env())
        options.setdefault("base_url", engine.base_url)
        agent = DockerAgent(api_url=api_url, **options)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.shutdown(grace_period=0)
        agent.client.close()


def drive_agent(agent: DockerAgent, until: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the agent's passes until ``until()`` holds (bounded; containers start slower)."""
    agent_testing.drive(agent, until, timeout)


@pytest.fixture(name="host_volumes")
def host_volumes_fixture() -> list[str]:
    """The read-only bind mounts that bring this machine's Python, venv and checkout in."""
    return host_volumes()


@pytest.fixture(name="container_env")
def container_env_fixture() -> dict[str, str]:
    """PATH with the venv's python first, a WEIR_HOME inside the container."""
    return container_env()


@pytest.fixture
def drive() -> Callable[..., None]:
    """``drive(agent, until)``: run the agent's passes until ``until()`` holds."""
    return drive_agent
