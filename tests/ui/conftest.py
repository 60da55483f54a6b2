"""Fixtures for the UI tests: a live weir server on loopback, Debian's chromium, and a
real agent process (``weir agent start``) that runs the flows of agent_flows.py
through ``weir execute flow-run``, so pages are watched going live on real runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from weir import Flow
from weir.client import Client
from weir.registration import register_flow
from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, missing, temporary_database
from weir.storage import Local
from weir.utilities.waiting import wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
FLOWS_SCRIPT = Path(__file__).with_name("agent_flows.py")


class AgentProcess:
    """``weir agent start`` as a real process against ``api_url``, stopped with SIGTERM."""

    def __init__(self, api_url: str, home: Path, name: str = "ui-agent") -> None:
        self.name = name
        self.log = home / "agent.log"
        env = {
            **os.environ,
            "WEIR_API_URL": api_url,
            "WEIR_HOME": str(home),
            # Cancellation reaches a run through its heartbeat reply: answer fast.
            "WEIR_HEARTBEAT_SECONDS": "0.5",
        }
        env.pop("WEIR_API_KEY", None)
        command = [sys.executable, "-m", "weir", "agent", "start", "--name", name]
        command += ["--grace-period", "1"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(ROOT)
            )

    def wait_registered(self, client: Client, timeout: float = 30) -> None:
        def registered() -> bool:
            return any(a.name == self.name for a in client.list_agents())

        why = lambda: f"The agent did not register; its output:\n{self.output()}"  # noqa: E731
        wait_until(lambda: registered() or self.process.poll() is not None, timeout, why)
        if not registered():
            raise RuntimeError(why())

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def register_with_storage(client: Client, flow: Flow) -> Any:
    """Register ``flow`` (defined in agent_flows.py) so an agent can load it from that file."""
    flow_id = register_flow(flow, client=client, storage=Local(path=FLOWS_SCRIPT))
    return client.get_flow(flow_id)


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[Client]:
    """A client of the module's server."""
    with Client(live_server.url) as client:
        yield client


@pytest.fixture(scope="module")
def agent(
    live_server: LiveServer, client: Client, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentProcess]:
    """A real `weir agent start` process serving the module's server."""
    agent = AgentProcess(live_server.url, tmp_path_factory.mktemp("agent"))
    try:
        agent.wait_registered(client)
        yield agent
    finally:
        agent.stop()


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    """A weir server (auth off) with the UI on a loopback port, SQLite in a temp dir."""
    with temporary_database("sqlite") as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as server:
            yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright, one per test module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        missing(f"Debian's chromium ({CHROMIUM})", "install it with `apt-get install -y chromium`.")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console errors catch what the Content-Security-Policy blocks (inline code, styles).
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    yield page
    context.close()
    assert not errors, f"The page raised JavaScript or CSP errors: {errors}"


def base_url(server: LiveServer) -> str:
    return server.url.removesuffix("/api/v1")


def screenshot(page: Any, name: str) -> None:
    """Keep a full-page picture for a reviewer under test-output/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
