"""Fixtures: every API test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import clear, require_postgres, temporary_database

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    if request.param == "postgresql":
        require_postgres()
    with temporary_database(request.param) as db:
        yield db


@pytest.fixture
def db(database: Database) -> Database:
    clear(database)
    return database


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def make_client(db: Database) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(*, auth: bool = False, clock: Any = None, **more: Any) -> TestClient:
        settings = ServerSettings(database_url=db.url, auth=auth, **more)
        kw = {"clock": clock} if clock is not None else {}
        app = create_app(settings, db=db, migrate=False, **kw)
        client = TestClient(app, base_url="http://localhost/api/v1")
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Any) -> TestClient:
    return make_client()


def _serialized_flow(name: str = "etl", **extra: Any) -> dict[str, Any]:
    flow = {
        "name": name,
        "tasks": [
            {
                "slug": "extract-1",
                "name": "extract",
                "type": "m.Extract",
                "max_retries": 0,
                "retry_delay": None,
                "timeout": None,
                "trigger": "all_successful",
                "skip_on_upstream_skip": True,
                "tags": [],
                "cache_for": None,
                "checkpoint": None,
                "is_parameter": False,
                "mapped": False,
                "is_reference": False,
            },
            {
                "slug": "load-1",
                "name": "load",
                "type": "m.Load",
                "max_retries": 0,
                "retry_delay": None,
                "timeout": None,
                "trigger": "all_successful",
                "skip_on_upstream_skip": True,
                "tags": [],
                "cache_for": None,
                "checkpoint": None,
                "is_parameter": False,
                "mapped": False,
                "is_reference": True,
            },
        ],
        "edges": [
            {"upstream": "extract-1", "downstream": "load-1", "key": "data", "mapped": False}
        ],
        "parameters": [
            {"name": "n", "slug": "n", "default": 3, "required": False},
            {"name": "who", "slug": "who", "default": None, "required": True},
        ],
        "reference_tasks": ["load-1"],
        "schedule": None,
    }
    flow.update(extra)
    return flow


def _register(client: TestClient, name: str = "etl", **body: Any) -> dict[str, Any]:
    payload = {"serialized_flow": _serialized_flow(name), **body}
    response = client.post("/flows", json=payload)
    assert response.status_code in (200, 201), response.text
    return response.json()["flow"]  # type: ignore[no-any-return]


def _create_run(client: TestClient, flow_id: str, **body: Any) -> dict[str, Any]:
    payload = {"flow_id": flow_id, "parameters": {"who": "me"}, **body}
    response = client.post("/flow_runs", json=payload)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def register() -> Any:
    """``register(client, name="etl", **body)``: register a flow, return it."""
    return _register


@pytest.fixture
def create_run() -> Any:
    """``create_run(client, flow_id, **body)``: create a flow run, return it."""
    return _create_run


@pytest.fixture
def serialized_flow() -> Any:
    """``serialized_flow(name="etl", **extra)``: what Flow.serialize() gives, for two tasks."""
    return _serialized_flow
