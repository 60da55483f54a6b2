"""A live server (SQLite and PostgreSQL) and helpers to register scripts and run them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from weir.client import Client
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, clear, require_postgres, temporary_database
from weir.storage import Local
from weir.storage.scripts import flows_in_script

#: A script with one flow, "one", of one task.
ONE_TASK = """
from weir import Flow, task

@task
def a():
    return 1

with Flow("one") as flow:
    a()
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    if request.param == "postgresql":
        require_postgres()
    with temporary_database(request.param) as db:
        yield db


def make_server(db: Database, port: int | None = None) -> LiveServer:
    app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
    return LiveServer(app, port=port)


@pytest.fixture(scope="module")
def server(database: Database) -> Iterator[LiveServer]:
    with make_server(database) as live:
        yield live


@pytest.fixture
def client(server: LiveServer, database: Database) -> Iterator[Client]:
    clear(database)
    with Client(server.url, retries=8, backoff=0.1) as c:
        yield c


class Harness:
    """Registers flow scripts on the live server and runs `weir execute flow-run` for them."""

    def __init__(self, client: Client, tmp: Path, weir_home: Path) -> None:
        self.client = client
        self.tmp = tmp
        self.env = {
            **os.environ,
            "WEIR_API_URL": client.api_url,
            "WEIR_HOME": str(weir_home),
            "WEIR_CHECKPOINTING": "true",
            "WEIR_HEARTBEAT_SECONDS": "0.2",
        }

    def register(self, source: str, name: str = "flow.py") -> dict[str, Any]:
        script = self.tmp / name
        script.write_text(textwrap.dedent(source))
        ids = {}
        for flow_name, flow in flows_in_script(script).items():
            storage = Local(path=script)
            storage.add_flow(flow, source=script)
            registered = self.client.register_flow(
                flow.serialize(), storage=storage.build().serialize()
            )
            ids[flow_name] = registered.flow.id
        return ids

    def start(self, flow_run_id: Any, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "weir", "execute", "flow-run", str(flow_run_id)],
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def execute(self, flow_run_id: Any, timeout: float = 60, **env: str) -> str:
        proc = self.start(flow_run_id, **env)
        out, _ = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, out
        return out


@pytest.fixture
def harness(client: Client, tmp_path: Path) -> Harness:
    return Harness(client, tmp_path, tmp_path / "home")
