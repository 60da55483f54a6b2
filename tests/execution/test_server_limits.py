"""A server with small limits (body bytes, batch items) still gets a run's whole report:
a batch it refuses for its size is sent again in halves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from weir.client import Client
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, temporary_database

from .conftest import Harness

pytestmark = pytest.mark.integration

CHATTY = """
import logging
from weir import Flow, task

@task
def chatty(i):
    log = logging.getLogger("weir.task_run")
    for n in range(20):
        log.info("line %d of task %d: %s", n, i, "x" * 400)
    return i

with Flow("chatty") as flow:
    chatty.map(list(range(30)))
"""


@pytest.fixture(scope="module")
def small_server() -> Iterator[tuple[LiveServer, Database]]:
    with temporary_database("sqlite") as db:
        settings = ServerSettings(database_url=db.url, max_body_bytes=64 * 1024, max_batch_items=50)
        with LiveServer(create_app(settings, db=db, migrate=False)) as live:
            yield live, db


def test_batches_too_big_for_the_server_arrive_in_halves(
    small_server: tuple[LiveServer, Database], tmp_path: Path
) -> None:
    live, _db = small_server
    with Client(live.url, retries=8, backoff=0.1) as client:
        harness = Harness(client, tmp_path, tmp_path / "home")
        run = client.create_flow_run(flow_id=harness.register(CHATTY)["chatty"])
        out = harness.execute(run.id, timeout=120)
        final = client.get_flow_run(run.id)
        assert final.state.type.value == "Success", out
        assert "dropped" not in out
        lines = [
            line.message
            for line in client.get_logs(run.id, limit=5000).logs
            if line.message.startswith("line ")
        ]
        assert len(lines) == 30 * 20
        children = [t for t in client.list_task_runs(run.id) if t.map_index >= 0]
        assert len(children) == 30
        assert {t.state.type.value for t in children} == {"Success"}
