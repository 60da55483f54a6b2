"""Services leadership: one holder of the PostgreSQL advisory lock runs the services.

Real PostgreSQL (each test its own schema, so its own lock key) and real SQLite
files; the leaders here are ``Leadership`` objects in this process, each with a
connection of its own, as each server process has. The same with real server
processes killed by signal: tests/faults/test_two_servers.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from weir.exceptions import ConfigurationError
from weir.server.database.engine import Database
from weir.server.services.leadership import (
    APPLICATION_NAME,
    Leadership,
    lock_key,
    refuse_second_sqlite_server,
)
from weir.server.testing import POSTGRES_URL, require_postgres, temporary_database
from weir.utilities.waiting import wait_until

pytestmark = pytest.mark.slow


class Counted:
    """A leader's services, as the leadership sees them: started and stopped."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.running.set()

    def stop(self) -> None:
        self.running.clear()


def _leadership(db: Database, services: Counted) -> Leadership:
    return Leadership(
        db, on_lead=services.start, on_follow=services.stop, retry_seconds=0.1, check_seconds=0.1
    )


@pytest.fixture
def pg() -> Iterator[Database]:
    require_postgres()
    with temporary_database("postgresql") as db:
        yield db


def test_one_of_two_leads_and_the_other_takes_over_when_it_stops(pg: Database) -> None:
    first_services, second_services = Counted(), Counted()
    first = _leadership(pg, first_services).start()
    wait_until(lambda: first.leading, 10)
    second = _leadership(pg, second_services).start()
    try:
        # The second keeps trying (every 0.1 s here) and never gets the lock.
        wait_until(lambda: second.tries >= 5, 10)
        assert not second.leading and not second_services.running.is_set()
        assert first_services.running.is_set()
        first.stop()
        assert not first_services.running.is_set()
        wait_until(lambda: second.leading and second_services.running.is_set(), 10)
    finally:
        second.stop()
        first.stop()
    assert not second_services.running.is_set()


def test_a_leader_whose_connection_dies_stops_its_services_and_another_leads(
    pg: Database,
) -> None:
    first_services, second_services = Counted(), Counted()
    first = _leadership(pg, first_services).start()
    wait_until(lambda: first.leading, 10)
    second = _leadership(pg, second_services).start()
    try:
        # What PostgreSQL does to a killed process's session: ends it, lock and all.
        key = lock_key(pg.schema) & 0xFFFFFFFFFFFFFFFF
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            ended = connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND granted AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": key >> 32, "low": key & 0xFFFFFFFF},
            ).scalars()
            assert list(ended) == [True]
        engine.dispose()
        wait_until(lambda: second.leading, 10)
        # The old leader finds its connection dead, stops, and follows (the lock is
        # the second's now), and its services are not running.
        wait_until(lambda: not first.leading and not first_services.running.is_set(), 10)
        assert second_services.running.is_set()
    finally:
        first.stop()
        second.stop()


def test_installations_in_other_schemas_each_have_a_leader(pg: Database) -> None:
    with temporary_database("postgresql") as other_db:
        here, there = Counted(), Counted()
        one = _leadership(pg, here).start()
        other = _leadership(other_db, there).start()
        try:
            wait_until(lambda: one.leading and other.leading, 10)
        finally:
            one.stop()
            other.stop()
    assert lock_key(pg.schema) != lock_key(other_db.schema)


def test_the_lock_connection_is_named_and_holds_no_transaction(pg: Database) -> None:
    services = Counted()
    leader = _leadership(pg, services).start()
    try:
        wait_until(lambda: leader.leading, 10)
        with pg.engine.connect() as connection:
            states = connection.execute(
                text("SELECT state FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APPLICATION_NAME},
            ).scalars()
            # "idle", never "idle in transaction": a held snapshot would stop vacuum.
            assert "idle in transaction" not in list(states)
    finally:
        leader.stop()


def test_on_sqlite_the_one_server_always_leads(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'weir.db'}")
    services = Counted()
    leader = _leadership(db, services).start()
    assert leader.leading and services.running.is_set()
    leader.stop()
    assert not services.running.is_set()
    db.dispose()


def test_a_second_server_on_one_sqlite_file_is_refused(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'weir.db'}")
    held = refuse_second_sqlite_server(db)
    try:
        with pytest.raises(ConfigurationError, match="one server process per SQLite file"):
            refuse_second_sqlite_server(db)
    finally:
        assert held is not None
        held.close()
    # The first gone (closed, or its process killed), the file may be served again.
    again = refuse_second_sqlite_server(db)
    assert again is not None
    again.close()
    db.dispose()


def test_a_leader_whose_services_fail_to_start_gives_the_lock_up(pg: Database) -> None:
    def broken() -> None:
        raise RuntimeError("a service would not start")

    failing = Leadership(pg, on_lead=broken, on_follow=lambda: None, retry_seconds=0.3)
    failing.start()
    wait_until(lambda: failing.tries >= 1, 10)
    services = Counted()
    other = _leadership(pg, services).start()
    try:
        wait_until(lambda: other.leading and services.running.is_set(), 20)
        assert not failing.leading
    finally:
        other.stop()
        failing.stop()
