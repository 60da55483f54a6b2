"""A live server on loopback (SQLite and PostgreSQL) for the client to talk to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, clear, require_postgres, temporary_database


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def client_database(request: pytest.FixtureRequest) -> Iterator[Database]:
    if request.param == "postgresql":
        require_postgres()
    with temporary_database(request.param) as db:
        yield db


@pytest.fixture(scope="session")
def live_server(client_database: Database) -> Iterator[LiveServer]:
    app = create_app(
        ServerSettings(database_url=client_database.url), db=client_database, migrate=False
    )
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def api_url(live_server: LiveServer, client_database: Database) -> str:
    clear(client_database)
    return live_server.url
