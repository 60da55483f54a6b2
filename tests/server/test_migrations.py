"""The migrations against the models, and the task-run history moving both ways (0003)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import text

from weir.server.app import create_app
from weir.server.database.migrate import downgrade, upgrade
from weir.server.database.orm import Base
from weir.server.settings import ServerSettings
from weir.server.testing import temporary_database

from .conftest import BACKENDS, _create_run, _register


@pytest.fixture(params=BACKENDS)
def fresh_db(request):
    with temporary_database(request.param) as db:
        yield db


def _schema_diff(db):
    with db.engine.connect() as connection:
        if db.schema:
            connection.execute(text(f'SET search_path TO "{db.schema}"'))
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def test_the_migrated_schema_is_the_models(fresh_db):
    assert _schema_diff(fresh_db) == []


def test_task_run_history_moves_to_rows_and_back(fresh_db):
    app = create_app(ServerSettings.from_env(), db=fresh_db, migrate=False)
    with TestClient(app, base_url="http://localhost/api/v1") as client:
        run = _create_run(client, _register(client)["id"])
        item = {
            "flow_run_id": run["id"],
            "task_slug": "t-1",
            "states": [
                {"type": "Running", "timestamp": 1e9},
                {"type": "Success", "timestamp": 1e9 + 1, "location": "/r/1", "message": "ok"},
            ],
        }
        [written] = client.post("/task_runs/batch", json=[item]).json()
        url = f"/task_runs/{written['task_run_id']}/states"
        before = client.get(url).json()
        assert [h["state"]["type"] for h in before] == ["Running", "Success"]

        downgrade(fresh_db, "0002")
        with fresh_db.session() as session:
            rows = session.execute(
                text("SELECT version, type, data FROM task_run_state ORDER BY version")
            ).all()
        assert [(r.version, r.type) for r in rows] == [(1, "Running"), (2, "Success")]

        upgrade(fresh_db)
        assert client.get(url).json() == before
        task_run = client.get(f"/task_runs/{written['task_run_id']}").json()
        assert task_run["state"]["location"] == "/r/1"
    with fresh_db.session() as session:
        started = session.execute(text("SELECT started_at FROM task_run")).scalar_one()
    assert started == 1e9


@pytest.mark.slow
def test_downgrading_past_0005_waits_for_stored_batches_to_be_written(fresh_db, monkeypatch):
    from weir.server.models.reading import write_stored
    from weir.server.services.batch_writer import BatchWriter

    monkeypatch.setattr(BatchWriter, "_loop", lambda self: None)  # only this test writes
    app = create_app(ServerSettings.from_env(), db=fresh_db, migrate=False)
    with TestClient(app, base_url="http://localhost/api/v1") as client:
        run = _create_run(client, _register(client)["id"])
        item = {"flow_run_id": run["id"], "task_slug": "t-1", "state": {"type": "Running"}}
        sent = client.post("/task_runs/batch", params={"wait": "false"}, json=[item])
        assert sent.status_code == 202
        with pytest.raises(RuntimeError, match="1 task-run batches not yet written"):
            downgrade(fresh_db, "0004")
        assert _schema_diff(fresh_db) == []  # nothing was dropped
        assert write_stored(fresh_db, lambda: 1e9) == 1
        downgrade(fresh_db, "0004")
        with fresh_db.session() as session:
            assert session.execute(text("SELECT count(*) FROM task_run")).scalar_one() == 1
        upgrade(fresh_db)


def test_0006_adds_the_attempt_and_takes_it_away(fresh_db):
    app = create_app(ServerSettings.from_env(), db=fresh_db, migrate=False)
    with TestClient(app, base_url="http://localhost/api/v1") as client:
        downgrade(fresh_db, "0005")
        with fresh_db.session() as session:
            columns = session.execute(text("SELECT * FROM flow_run LIMIT 0")).keys()
        assert "attempt" not in columns
        upgrade(fresh_db)
        assert _schema_diff(fresh_db) == []
        run = _create_run(client, _register(client)["id"])
        assert run["attempt"] == 0
        [claimed] = client.post("/work/claim", json={"labels": []}).json()
        assert claimed["attempt"] == 1
        downgrade(fresh_db, "0005")
        upgrade(fresh_db)  # a run made before 0006 starts at attempt 0
        assert client.get(f"/flow_runs/{run['id']}").json()["attempt"] == 0
