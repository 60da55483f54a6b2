"""On SQLite, writers in one process and in "another" (a second Database on the same
file, with its own lock, as `weir server services` would be) never see "database is locked"."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from weir.schemas import actions
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.models import flow_runs, flows
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, temporary_database


@pytest.mark.slow
def test_concurrent_writers_on_one_sqlite_file_never_fail():
    with temporary_database("sqlite") as db:
        other = Database(db.url)  # its own engines and lock: only SQLite coordinates the two
        with db.session(write=True) as session:
            flow, _ = flows.register(session, actions.FlowCreate(serialized_flow={"name": "w"}))
            run = flow_runs.create(session, actions.FlowRunCreate(flow_id=flow.id), now=1.0).run
        errors: list[str] = []
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)

        def http_writer(server: LiveServer, n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                for i in range(40):
                    for response in (
                        http.post(f"/flow_runs/{run.id}/heartbeat"),
                        http.post(
                            "/logs/batch",
                            json=[
                                {
                                    "flow_run_id": str(run.id),
                                    "timestamp": 1.0,
                                    "message": f"{n}-{i}",
                                }
                            ],
                        ),
                        http.post(
                            "/task_runs/batch",
                            json=[
                                {
                                    "flow_run_id": str(run.id),
                                    "task_slug": f"t{n}",
                                    "map_index": i,
                                    "state": {"type": "Running"},
                                }
                            ],
                        ),
                    ):
                        if response.status_code >= 400:
                            errors.append(f"{response.status_code} {response.text}")

        def direct_writer() -> None:
            for _ in range(100):
                try:
                    with other.session(write=True) as session:
                        flow_runs.heartbeat(session, run.id, 2.0)
                except OperationalError as exc:
                    errors.append(str(exc))

        with LiveServer(app) as server:
            threads = [threading.Thread(target=http_writer, args=(server, n)) for n in range(6)]
            threads += [threading.Thread(target=direct_writer) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
        other.dispose()
        assert errors == []
        with db.session() as session:
            from sqlalchemy import func, select

            from weir.server.database import orm

            assert session.scalar(select(func.count()).select_from(orm.Log)) == 240
            assert session.scalar(select(func.count()).select_from(orm.TaskRun)) == 240
