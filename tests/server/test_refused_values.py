"""A value the database refuses (a DataError) costs only its item: the rest is stored.

The API's schemas keep what PostgreSQL would refuse out, and NUL is cleaned (see
test_nul_text), so to meet a refusal these tests narrow columns of their own
schema: a longer value is then "value too long", a DataError, as a value the
schemas let through and the database refuses would be.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

NARROWED = {
    ("log", "task_slug"): "varchar(500)",
    ("trace_event", "kind"): "varchar(200)",
    ("task_run", "state_message"): "text",
}


@pytest.fixture
def narrow(db: Any) -> Iterator[None]:
    if db.is_sqlite:
        pytest.skip("SQLite refuses no value of these columns")
    # Pooled connections may hold statements earlier tests had prepared on the wide
    # columns; PostgreSQL refuses to run those once a column's type changed.
    db.dispose()
    _alter(db, "varchar(8)")
    yield
    _alter(db, None)
    # Connections keep temporary tables copied off the narrowed columns: let them go.
    db.dispose()


def _alter(db: Any, to: str | None) -> None:
    with db.session(write=True) as session:
        for (table, column), wide in NARROWED.items():
            session.execute(
                text(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {to or wide}')
            )


@pytest.fixture
def run_id(client: Any, register: Any, create_run: Any) -> str:
    return str(create_run(client, register(client)["id"])["id"])


def _line(run_id: str, seq: int, slug: str) -> dict[str, Any]:
    return {
        "flow_run_id": run_id,
        "task_slug": slug,
        "timestamp": time.time(),
        "message": f"line {seq}",
        "sender_id": "00000000-0000-4000-8000-000000000001",
        "seq": seq,
    }


def _event(run_id: str, seq: int, kind: str) -> dict[str, Any]:
    return {
        "flow_run_id": run_id,
        "kind": kind,
        "timestamp": time.time(),
        "sender_id": "00000000-0000-4000-8000-000000000002",
        "seq": seq,
    }


def test_a_log_batch_stores_the_lines_it_can_and_names_the_refused_one(
    narrow, client, run_id
) -> None:
    batch = [_line(run_id, 0, "a"), _line(run_id, 1, "far-too-long"), _line(run_id, 2, "b")]
    answer = client.post("/logs/batch", json=batch)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "[1].task_slug"
    assert "item(s) 1 " in answer.json()["detail"]
    logs = client.get(f"/flow_runs/{run_id}/logs").json()["logs"]
    assert [line["message"] for line in logs] == ["line 0", "line 2"]
    # Sent again, cleaned of the refused line: stored once.
    assert client.post("/logs/batch", json=batch[::2]).json()["count"] == 0


def test_a_trace_batch_stores_the_events_it_can(narrow, client, run_id) -> None:
    batch = [_event(run_id, 0, "short"), _event(run_id, 1, "much-too-long")]
    answer = client.post("/trace/batch", json=batch)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "[1].kind"
    kinds = [e["kind"] for e in client.get(f"/flow_runs/{run_id}/trace").json()]
    assert "short" in kinds
    assert "much-too-long" not in kinds


def _task(run_id: str, slug: str, message: str) -> dict[str, Any]:
    return {
        "flow_run_id": run_id,
        "task_slug": slug,
        "states": [{"type": "Running"}, {"type": "Success", "message": message}],
    }


@pytest.mark.parametrize("wait", ["true", "false"])
def test_a_task_run_batch_refuses_only_the_item_at_fault(narrow, client, run_id, wait) -> None:
    batch = [_task(run_id, "a", "ok"), _task(run_id, "b", "much too long"), _task(run_id, "c", "")]
    answer = client.post("/task_runs/batch", params={"wait": wait}, json=batch)
    assert answer.status_code in (200, 202), answer.text
    if wait == "true":
        outcomes = answer.json()
        assert [o["accepted"] for o in outcomes] == [True, False, True]
        assert "cannot store" in outcomes[1]["reason"]
    task_runs = client.get(f"/flow_runs/{run_id}/task_runs").json()
    assert sorted(t["task_slug"] for t in task_runs) == ["a", "c"]
    if wait == "false":
        # A stored batch has nobody to answer: the refusal is a line in the run's logs.
        logs = client.get(f"/flow_runs/{run_id}/logs").json()["logs"]
        assert any("task run b[-1]" in line["message"] for line in logs)


def test_a_state_is_written_though_a_line_sent_with_it_is_refused(narrow, client, run_id) -> None:
    body = {
        "state": {"type": "Running"},
        "version": client.get(f"/flow_runs/{run_id}").json()["version"],
        "task_runs": [_task(run_id, "a", "ok")],
        "logs": [_line(run_id, 0, "a"), _line(run_id, 1, "far-too-long")],
        "trace": [_event(run_id, 2, "short")],
    }
    answer = client.post(f"/flow_runs/{run_id}/state", json=body)
    assert answer.status_code == 200, answer.text
    assert client.get(f"/flow_runs/{run_id}").json()["state"]["type"] == "Running"
    messages = [line["message"] for line in client.get(f"/flow_runs/{run_id}/logs").json()["logs"]]
    assert "line 0" in messages
    assert "line 1" not in messages
    assert any("could not store 1 of the log lines" in m for m in messages)
    assert len(client.get(f"/flow_runs/{run_id}/task_runs").json()) == 1


def test_stored_batches_written_together_lose_only_the_item_at_fault(
    narrow, client, run_id, monkeypatch
) -> None:
    # Written as one, the three fail together on the long message: then batch by
    # batch, and in the batch at fault item by item.
    from weir.server.services.batch_writer import BatchWriter

    monkeypatch.setattr(BatchWriter, "_loop", lambda self: None)  # only reads write them
    batches = [
        [_task(run_id, "a", "ok")],
        [_task(run_id, "b", "much too long"), _task(run_id, "d", "")],
        [_task(run_id, "c", "ok")],
    ]
    for batch in batches:
        answer = client.post("/task_runs/batch", params={"wait": "false"}, json=batch)
        assert answer.status_code == 202, answer.text
    task_runs = client.get(f"/flow_runs/{run_id}/task_runs").json()
    assert sorted(t["task_slug"] for t in task_runs) == ["a", "c", "d"]
    logs = client.get(f"/flow_runs/{run_id}/logs").json()["logs"]
    [line] = [x for x in logs if x["name"] == "weir.server"]
    assert "task run b[-1]" in line["message"] and "cannot store" in line["message"]
