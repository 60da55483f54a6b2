"""The server on SQLite must not need psycopg, which only the `postgres` extra installs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_an_sqlite_server_starts_and_answers_without_psycopg(tmp_path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["psycopg"] = None  # as if it were not installed: importing it fails
        from fastapi.testclient import TestClient
        from weir.server.app import create_app
        from weir.server.settings import ServerSettings

        settings = ServerSettings(database_url="sqlite:///{tmp_path / "weir.db"}")
        with TestClient(create_app(settings), base_url="http://localhost/api/v1") as client:
            run = client.post("/flow_runs", json={{"flow_name": "nope"}})
            assert run.status_code == 404, run.text
            print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
