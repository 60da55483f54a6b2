"""A live server on loopback for the CLI to talk to, on SQLite and PostgreSQL.

A test module may define its own ``server`` (test_server_cli.py does: SQLite only).
"""

from __future__ import annotations

import pytest

from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, clear, require_postgres, temporary_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest):
    if request.param == "postgresql":
        require_postgres()
    with temporary_database(request.param) as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as live:
            yield live, db


@pytest.fixture
def api_url(server) -> str:
    """The live server's URL, its database emptied first."""
    live, db = server
    clear(db)
    return live.url
