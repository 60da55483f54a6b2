"""Fixtures for the UI tests: a live weir server on loopback, Debian's chromium, and an
agent stand-in that drives runs through the real REST API.

``ScriptedAgent`` does over HTTP what an agent and ``weir execute flow-run`` do
(claim, Running, task-run states, logs, trace events, heartbeats, a final
state), following the flow's serialized graph, so pages can be watched going
live without the execution path. A flow called ``ui-slow`` keeps one task
Running until cancellation is asked for, as a long task would.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from weir import Flow, Parameter, task
from weir.client import Client
from weir.exceptions import WeirError
from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, temporary_database

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


@task
def extract(n: int) -> list[int]:
    return list(range(n))


@task
def transform(x: int) -> int:
    return x * 10


@task
def load(xs: list[int]) -> int:
    return sum(xs)


@task
def slow() -> None:
    """Stands for a long task; the scripted agent keeps it Running until cancelled."""


def etl_flow() -> Flow:
    with Flow("ui-etl") as flow:
        n = Parameter("n", default=3)
        load(transform.map(extract(n)))
        flow.add_task(Parameter("greeting", default="hello"))
    return flow


def slow_flow() -> Flow:
    with Flow("ui-slow") as flow:
        slow()
    return flow


class ScriptedAgent:
    """Claims runs in a thread and drives each through the API the way a runner would."""

    def __init__(self, api_url: str, api_key: str | None = None, step: float = 0.25) -> None:
        self.client = Client(api_url, api_key, retries=2)
        self.step = step
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scripted-agent", daemon=True)
        self.errors: list[BaseException] = []

    def __enter__(self) -> ScriptedAgent:
        self.agent_id = self.client.register_agent("scripted", labels=[]).id
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.client.agent_heartbeat(self.agent_id)
                for run in self.client.claim(agent_id=self.agent_id, limit=1, wait=0.5):
                    self._drive(run)
            except WeirError as exc:  # keep serving; the test reads self.errors
                self.errors.append(exc)
                time.sleep(0.2)

    # -- one run -------------------------------------------------------------------

    def _trace(self, run_id: uuid.UUID, kind: str, **data: Any) -> None:
        item = {"flow_run_id": str(run_id), "kind": kind, "timestamp": time.time(), "data": data}
        self.client.write_trace_events([item])

    def _log(self, run_id: uuid.UUID, slug: str | None, message: str, level: int = 20) -> None:
        item = {
            "flow_run_id": str(run_id),
            "task_slug": slug,
            "timestamp": time.time(),
            "level": level,
            "name": "weir.task" if slug else "weir.flow",
            "message": message,
        }
        self.client.write_logs([item])

    def _task_states(
        self, run_id: uuid.UUID, slug: str, states: list[str], index: int = -1
    ) -> None:
        items = [
            {
                "flow_run_id": str(run_id),
                "task_slug": slug,
                "map_index": index,
                "state": {"type": s, "timestamp": time.time()},
            }
            for s in states
        ]
        self.client.upsert_task_runs(items)

    def _drive(self, run: Any) -> None:
        flow = self.client.get_flow(run.flow_id).serialized_flow
        self._trace(run.id, "process_started", pid=os.getpid(), host="loopback")
        version = self.client.set_flow_run_state(run.id, {"type": "Running"}, run.version).version
        self._trace(run.id, "flow_loaded", seconds=0.01)
        self._log(run.id, None, f"Flow run {run.name}: starting flow {flow['name']}.")
        final = "Success"
        for spec in flow["tasks"]:
            slug = spec["slug"]
            if flow["name"] == "ui-slow":
                final = self._until_cancelled(run.id, slug)
                break
            self._run_task(run, spec)
            if self.client.heartbeat_flow_run(run.id):
                final = "Cancelled"
                break
        if final == "Cancelled":
            version = self.client.get_flow_run(run.id).version
        self._log(run.id, None, f"Flow run {run.name}: finished as {final}.")
        self._trace(run.id, "flow_run_finished", state=final)
        self.client.set_flow_run_state(run.id, {"type": final}, version)

    def _run_task(self, run: Any, spec: dict[str, Any]) -> None:
        slug, name = spec["slug"], spec["name"]
        if spec["is_parameter"]:
            self._task_states(run.id, slug, ["Running", "Success"])
            return
        time.sleep(self.step)
        if spec["mapped"]:
            n = int(run.parameters.get("n", 3))
            self._task_states(run.id, slug, ["Running", "Mapped"])
            items = [
                {
                    "flow_run_id": str(run.id),
                    "task_slug": slug,
                    "map_index": i,
                    "state": {"type": s, "timestamp": time.time()},
                }
                for i in range(n)
                for s in ("Running", "Success")
            ]
            self.client.upsert_task_runs(items)
            self._log(run.id, slug, f"{name}: mapped over {n} items.")
            return
        self._task_states(run.id, slug, ["Running"])
        time.sleep(self.step)
        self._log(run.id, slug, f"{name}: done with n={run.parameters.get('n')}.")
        self._task_states(run.id, slug, ["Success"])

    def _until_cancelled(self, run_id: uuid.UUID, slug: str) -> str:
        self._task_states(run_id, slug, ["Running"])
        self._log(run_id, slug, "slow: working until told to stop.")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self._stop.is_set():
            if self.client.heartbeat_flow_run(run_id):
                self._log(run_id, slug, "slow: cancellation received, stopping.", level=30)
                self._task_states(run_id, slug, ["Cancelled"])
                return "Cancelled"
            time.sleep(0.2)
        return "Failed"


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
        pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium).")
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
