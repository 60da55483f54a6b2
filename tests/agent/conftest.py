"""A live server on loopback and the flows the agent runs through ``weir execute flow-run``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from weir.agent import LocalAgent
from weir.client import Client
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, clear, require_postgres, temporary_database

FLOWS = Path(__file__).resolve().parent / "flows.py"


def _server(backend: str) -> Iterator[tuple[LiveServer, Database]]:
    if backend == "postgresql":
        require_postgres()
    with temporary_database(backend) as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as server:
            yield server, db


@pytest.fixture(scope="session")
def sqlite_server() -> Iterator[tuple[LiveServer, Database]]:
    yield from _server("sqlite")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[LiveServer, Database]]:
    yield from _server("postgresql")


@pytest.fixture
def api_url(sqlite_server: tuple[LiveServer, Database]) -> str:
    server, db = sqlite_server
    clear(db)
    return server.url


@pytest.fixture
def client(api_url: str) -> Iterator[Client]:
    with Client(api_url) as c:
        yield c


def register_nap(client: Client) -> str:
    """Register the ``nap`` flow of tests/agent/flows.py with Local storage; its id."""
    from weir.registration import register_flow
    from weir.storage import Local
    from weir.storage.scripts import flows_in_script

    flow = flows_in_script(FLOWS)["nap"]
    return str(register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS))


@pytest.fixture
def nap_flow_id(client: Client) -> str:
    return register_nap(client)


@pytest.fixture
def make_agent(api_url: str, tmp_path: Path) -> Iterator[Callable[..., LocalAgent]]:
    """``make_agent(**options)``: a LocalAgent whose runs keep their results under tmp_path."""
    agents: list[LocalAgent] = []

    def make(url: str | None = None, **options: Any) -> LocalAgent:
        options.setdefault("env", {"WEIR_HOME": str(tmp_path / "home")})
        agent = LocalAgent(api_url=url or api_url, **options)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.shutdown(grace_period=0)
        agent.client.close()
