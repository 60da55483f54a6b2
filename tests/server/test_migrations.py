"""The migrations against the models, and the task-run history moving both ways (0003)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text

from weir.server.app import create_app
from weir.server.database.migrate import (
    _VERSION_TABLE,
    HEAD_REVISION,
    alembic_config,
    downgrade,
    stored_revision,
    upgrade,
)
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


@pytest.fixture(params=BACKENDS)
def empty_db(request):
    """A database with no table at all, as a first start finds it."""
    with temporary_database(request.param) as db:
        with db.write_engine.begin() as connection:
            if db.is_sqlite:
                connection.execute(text("PRAGMA foreign_keys = OFF"))
                for table in [*Base.metadata.sorted_tables[::-1], _VERSION_TABLE]:
                    connection.execute(text(f'DROP TABLE "{table.name}"'))
            else:
                connection.execute(text(f'DROP SCHEMA "{db.schema}" CASCADE'))
        db.dispose()
        yield db


def _schema(db) -> dict[str, object]:
    """Everything the database says about its tables, in a form to compare."""
    with db.engine.connect() as connection:
        inspector = inspect(connection)
        found: dict[str, object] = {}
        for table in sorted(inspector.get_table_names()):
            columns = [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ]
            found[table] = {
                "columns": sorted(columns),
                "primary key": inspector.get_pk_constraint(table),
                "foreign keys": sorted(map(repr, inspector.get_foreign_keys(table))),
                "indexes": sorted(map(repr, inspector.get_indexes(table))),
                "unique": sorted(map(repr, inspector.get_unique_constraints(table))),
                "checks": sorted(map(repr, inspector.get_check_constraints(table))),
            }
        if not db.is_sqlite:
            found["enums"] = sorted(map(repr, inspector.get_enums()))
        return found


def test_head_revision_is_the_newest_migration():
    from alembic.script import ScriptDirectory

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_a_new_database_gets_the_schema_the_migrations_give(empty_db):
    """The fast first start (create the tables, stamp the head) is exactly migrating."""
    upgrade(empty_db)  # empty: the fast way
    fast = _schema(empty_db)
    assert stored_revision(empty_db) == HEAD_REVISION
    backend = "sqlite" if empty_db.is_sqlite else "postgresql"
    with temporary_database(backend) as migrated:
        downgrade(migrated, "base")
        assert _schema(migrated).keys() - {"enums"} == {"alembic_version"}
        upgrade(migrated, "0001")  # not empty from here on: Alembic runs every migration
        upgrade(migrated)
        assert stored_revision(migrated) == HEAD_REVISION
        assert _schema(migrated) == fast
    assert _schema_diff(empty_db) == []


_START_CODE = """
import sys
from weir.server.database.engine import Database
from weir.server.database.migrate import upgrade, stored_revision
db = Database(sys.argv[1], schema=sys.argv[2] or None)
upgrade(db)
print(stored_revision(db), "alembic" in sys.modules)
"""


def _start_in_a_new_process(db) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _START_CODE, db.url, db.schema or ""],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_a_current_database_starts_without_loading_alembic(fresh_db):
    assert _start_in_a_new_process(fresh_db) == f"{HEAD_REVISION} False"


def test_a_new_database_starts_without_loading_alembic(empty_db):
    assert _start_in_a_new_process(empty_db) == f"{HEAD_REVISION} False"


def test_an_older_database_is_still_migrated(fresh_db):
    downgrade(fresh_db, "0006")
    assert stored_revision(fresh_db) == "0006"
    assert _start_in_a_new_process(fresh_db) == f"{HEAD_REVISION} True"
    assert _schema_diff(fresh_db) == []


def test_the_gc_a_start_turns_off_is_back_on_once_the_app_serves(empty_db):
    """`weir server start` starts with the GC off (a tenth of the start went to it); the
    app turns it back on, with start-up's objects frozen, before it answers."""
    import gc

    from fastapi.testclient import TestClient

    from weir.server.app import create_app
    from weir.server.settings import ServerSettings

    gc.disable()
    try:
        app = create_app(ServerSettings(database_url=empty_db.url), db=empty_db)
        with TestClient(app, base_url="http://127.0.0.1") as client:
            assert client.get("/api/v1/health").status_code == 200
            assert gc.isenabled()
            assert gc.get_freeze_count() > 0
    finally:
        gc.enable()
        gc.unfreeze()


def test_the_gc_collects_young_objects_less_often_while_the_app_serves(empty_db):
    """A batch's tens of thousands of objects are freed whole before the GC walks them;
    the threshold is Python's again once the app stops (tests run many apps)."""
    import gc

    from fastapi.testclient import TestClient

    from weir.server.app import YOUNG_THRESHOLD, create_app
    from weir.server.settings import ServerSettings

    before = gc.get_threshold()
    try:
        app = create_app(ServerSettings(database_url=empty_db.url), db=empty_db)
        with TestClient(app, base_url="http://127.0.0.1") as client:
            assert client.get("/api/v1/health").status_code == 200
            assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
