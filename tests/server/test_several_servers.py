"""Two server apps on one database, each with its own engine (as two processes have).

A task-run batch one server stored to write later (``wait=false``) is read on the
other: the stored batch is a row of the database, and the reading server writes it
before it reads (``weir.server.models.reading``).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.services.batch_writer import BatchWriter
from weir.server.settings import ServerSettings


def test_a_batch_one_server_stored_is_read_on_the_other(
    db: Database, make_client: Any, register: Any, create_run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No writer threads: only the second server's read can write the batch.
    monkeypatch.setattr(BatchWriter, "_loop", lambda self: None)
    first = make_client()
    run_id = create_run(first, register(first)["id"])["id"]
    other = Database(db.url, schema=db.schema)
    app = create_app(ServerSettings(database_url=db.url), db=other, migrate=False)
    try:
        with TestClient(app, base_url="http://localhost/api/v1") as second:
            items = [
                {
                    "flow_run_id": run_id,
                    "task_slug": "a",
                    "map_index": -1,
                    "states": [{"type": "Running"}, {"type": "Success"}],
                }
            ]
            sent = first.post("/task_runs/batch", params={"wait": "false"}, json=items)
            assert sent.status_code == 202, sent.text
            listed = second.get(f"/flow_runs/{run_id}/task_runs").json()
            assert [(t["task_slug"], t["state"]["type"]) for t in listed] == [("a", "Success")]
            assert second.get("/health").json()["services"] == "off"
    finally:
        other.dispose()
