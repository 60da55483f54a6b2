"""The retention service (injected clock), its settings, and SQLite giving space back."""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid

import pytest
from sqlalchemy import text

from weir.exceptions import ConfigurationError
from weir.server.app import services_for
from weir.server.database import vacuum
from weir.server.database.engine import Database
from weir.server.database.migrate import upgrade
from weir.server.models import deletion
from weir.server.services.retention import Retention, purge
from weir.server.settings import RetentionSettings, ServerSettings, parse_duration

from .conftest import Clock
from .run_rows import fill_run, finish, rows_of, set_state

DAY = 86400.0


def _settings(**kw) -> RetentionSettings:
    return RetentionSettings(**{"retention": 30 * DAY, "chunk": 5, "pause": 0, **kw})


def test_expired_runs_go_and_the_rest_stay(make_client, db, register, create_run):
    clock = Clock()
    client = make_client(clock=clock)
    flow = register(client)
    old = [create_run(client, flow["id"]) for _ in range(3)]
    for kind, run in zip(["Success", "Failed", "Cancelled"], old, strict=True):
        fill_run(client, run["id"])
        finish(client, run["id"], kind)
    running = create_run(client, flow["id"])
    fill_run(client, running["id"])
    waiting = create_run(client, flow["id"], scheduled_start_time=clock.now + 60 * DAY)
    clock.now += 20 * DAY
    recent = create_run(client, flow["id"])
    fill_run(client, recent["id"])
    finish(client, recent["id"])
    service = Retention(db, _settings(batch=2), clock=clock)
    assert service.run_once() == 0  # 20 days: nothing has expired yet
    clock.now += 11 * DAY
    assert service.run_once() == 3
    for run in old:
        assert set(rows_of(db, run["id"]).values()) == {0}
    for run in (running, waiting, recent):
        assert rows_of(db, run["id"])["flow_run"] == 1
    assert rows_of(db, running["id"])["task_run"] == 12
    assert rows_of(db, recent["id"])["log"] == 12
    assert service.run_once() == 0


def test_a_run_restarted_meanwhile_keeps_what_it_has(make_client, db, register, create_run):
    client = make_client()
    run = create_run(client, register(client)["id"])
    fill_run(client, run["id"])
    finish(client, run["id"], "Failed")
    run_id = uuid.UUID(run["id"])
    assert client.post(f"/flow_runs/{run['id']}/restart").status_code == 200
    assert purge(db, [run_id], [deletion.FINISHED], _settings()) == 0
    assert rows_of(db, run["id"])["task_run"] == 12


def test_no_retention_deletes_nothing(make_client, db, register, create_run):
    clock = Clock()
    client = make_client(clock=clock)
    run = create_run(client, register(client)["id"])
    set_state(client, run["id"], "Running")
    finish(client, run["id"])
    clock.now += 10_000 * DAY
    assert Retention(db, RetentionSettings(), clock=clock).run_once() == 0
    assert rows_of(db, run["id"])["flow_run"] == 1


def test_the_retention_service_runs_only_when_a_retention_is_set(db):
    names = [s.name for s in services_for(db, ServerSettings(database_url=db.url))]
    assert names == ["scheduler", "lazarus"]
    settings = ServerSettings(database_url=db.url, retention=_settings())
    assert [s.name for s in services_for(db, settings)] == ["scheduler", "lazarus", "retention"]


@pytest.mark.parametrize(
    ("text", "seconds"), [("30d", 30 * DAY), ("12h", 43200.0), ("90m", 5400.0), ("2w", 14 * DAY)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["30", "0d", "-1d", "d", "30 days", ""])
def test_a_bad_duration_says_how_to_write_one(bad):
    with pytest.raises(ConfigurationError, match="such as 30d, 12h or 90m"):
        parse_duration(bad)


def test_the_retention_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEIR_SERVER_RETENTION", "12h")
    assert ServerSettings.from_env().retention.retention == 43200.0
    monkeypatch.setenv("WEIR_SERVER_RETENTION", "12")
    with pytest.raises(ConfigurationError, match="WEIR_SERVER_RETENTION"):
        ServerSettings.from_env()
    monkeypatch.delenv("WEIR_SERVER_RETENTION")
    assert ServerSettings.from_env().retention.retention is None


# -- SQLite gives the space back -------------------------------------------------


def _pages(db: Database) -> tuple[int, int]:
    """(pages in the file, free pages), after the log is copied into the file."""
    connection = sqlite3.connect(db.sqlite_path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
    finally:
        connection.close()
    return pages, free


def _run_with_megabytes_of_logs(client, register, create_run, batches: int) -> str:
    """A finished run with ``batches`` × 1 MB of log lines; its id."""
    run = create_run(client, register(client)["id"])
    set_state(client, run["id"], "Running")
    for batch in range(batches):
        lines = [
            {"flow_run_id": run["id"], "timestamp": 1.0, "message": f"{batch} {i} " + "x" * 2000}
            for i in range(500)
        ]
        assert client.post("/logs/batch", json=lines).status_code == 201
    finish(client, run["id"])
    return str(run["id"])


@pytest.mark.slow
def test_sqlite_file_shrinks_after_a_big_deletion(make_client, db, register, create_run):
    if not db.is_sqlite:
        pytest.skip("SQLite only: PostgreSQL's autovacuum reuses the space itself.")
    clock = Clock()
    client = make_client(clock=clock)
    _run_with_megabytes_of_logs(client, register, create_run, 4)
    pages_before, _ = _pages(db)
    size_before = os.path.getsize(db.sqlite_path)
    clock.now += 31 * DAY
    assert Retention(db, _settings(chunk=500), clock=clock).run_once() == 1
    pages_after, free_after = _pages(db)
    assert free_after == 0
    assert pages_after < pages_before / 2  # 4 MB of log lines given back
    assert os.path.getsize(db.sqlite_path) < size_before / 2


def test_a_deleted_run_gives_its_space_back(make_client, db, register, create_run):
    if not db.is_sqlite:
        pytest.skip("SQLite only.")
    client = make_client()
    run_id = _run_with_megabytes_of_logs(client, register, create_run, 2)
    pages_before, _ = _pages(db)
    assert client.delete(f"/flow_runs/{run_id}").status_code == 204
    pages_after, free_after = _pages(db)
    assert free_after == 0 and pages_after < pages_before / 2


def _old_style_database(path) -> Database:
    """A database made the way weir made them before auto_vacuum was set."""
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE leftover (x)")
    connection.commit()
    connection.close()
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    return db


def test_a_small_old_database_is_converted_once(tmp_path):
    db = _old_style_database(tmp_path / "old.db")
    try:
        assert vacuum.auto_vacuum_mode(db) == 0
        assert vacuum.convert_at_start(db)
        assert vacuum.auto_vacuum_mode(db) == vacuum.INCREMENTAL
        assert not vacuum.convert_at_start(db)
        with db.session() as session:
            assert session.execute(text("SELECT count(*) FROM flow_run")).scalar() == 0
    finally:
        db.dispose()


def test_a_large_old_database_is_left_with_a_warning(tmp_path, caplog):
    db = _old_style_database(tmp_path / "old.db")
    try:
        with caplog.at_level(logging.WARNING):
            assert not vacuum.convert_at_start(db, max_bytes=0)
        assert vacuum.auto_vacuum_mode(db) == 0
        assert "auto_vacuum=INCREMENTAL; VACUUM;" in caplog.text
        assert vacuum.reclaim(db) == 0
    finally:
        db.dispose()


def test_health_says_this_servers_retention(make_client):
    # With several servers the leader's retention is in force: each says its own.
    assert make_client().get("/health").json()["retention"] is None
    kept = make_client(retention=RetentionSettings(retention=30 * DAY))
    assert kept.get("/health").json()["retention"] == 30 * DAY
