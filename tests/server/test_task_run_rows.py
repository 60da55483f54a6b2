"""Task runs built as the drivers' rows (task_run_rows): what each column of them holds,
and that SQLite and PostgreSQL store the same rows from the same batches."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from weir.server.app import create_app
from weir.server.database import orm
from weir.server.models import bulk, task_runs
from weir.server.settings import ServerSettings
from weir.server.testing import require_postgres, temporary_database

T = 1_800_000_000.123456789


def _varied_batch(run_id: str) -> list[dict[str, Any]]:
    """Items of every shape the fast path takes, and some it must leave to the general one."""

    def item(slug: str, *states: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {"flow_run_id": run_id, "task_slug": slug, "states": list(states), **more}

    return [
        # One state, given as `state`.
        {"flow_run_id": run_id, "task_slug": "plain", "state": {"type": "Success", "timestamp": T}},
        item(
            "full",
            {"type": "Running", "timestamp": T + 0.1, "run_count": 1},
            {
                "type": "Success",
                "timestamp": T + 0.2,
                "message": "done ✓",
                "start_time": T + 0.05,
                "run_count": 1,
                "location": "/results/full",
                "map_counts": {"Success": 2, "Failed": 0},
            },
            submitted=T,
        ),
        *[
            item("mapped", {"type": "Running", "timestamp": T}, map_index=i, submitted=T - i)
            for i in (0, 1, 12)
        ],
        item(
            "retry", {"type": "Running", "timestamp": T}, {"type": "Retrying", "timestamp": T + 1}
        ),
        item("pending", {"type": "Pending", "timestamp": T}, version=0),
        item("nul\x00slug", {"type": "Running", "timestamp": T}),
        item(
            "nul-text",
            {"type": "Failed", "timestamp": T, "message": "a\x00b", "k\x00": ["v\x00", 1]},
        ),
        # The general path's: a forbidden move, a version not 0, a key named twice.
        item("forbidden", {"type": "Success", "timestamp": T}, {"type": "Running", "timestamp": T}),
        item("versioned", {"type": "Running", "timestamp": T}, version=3),
        item("twice", {"type": "Running", "timestamp": T}),
        item("twice", {"type": "Success", "timestamp": T + 1}),
    ]


def _rows(db: Any, run_id: str) -> list[dict[str, Any]]:
    table = orm.TaskRun.__table__
    with db.session() as session:
        rows = session.execute(
            select(table).where(table.c.flow_run_id == uuid.UUID(run_id))
        ).mappings()
        return sorted((dict(row) for row in rows), key=lambda r: (r["task_slug"], r["map_index"]))


def _second_batch(run_id: str) -> list[dict[str, Any]]:
    """Items for the task runs the first batch stored: updates, refusals, a repeat."""

    def item(slug: str, *states: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {"flow_run_id": run_id, "task_slug": slug, "states": list(states), **more}

    done = {"type": "Success", "timestamp": T + 5, "message": "ok", "location": "/r/m0"}
    return [
        item("mapped", done, map_index=0),
        item("mapped", {"type": "Failed", "timestamp": T + 5, "run_count": 2}, map_index=1),
        item("retry", {"type": "Running", "timestamp": T + 6}, version=2),
        item(
            "pending",
            {"type": "Running", "timestamp": T + 6},
            {"type": "Success", "timestamp": T + 7},
        ),
        item("nul\x00slug", {"type": "Success", "timestamp": T + 8}),
        item("late", {"type": "Running", "timestamp": T + 9}),
        # Refused: a forbidden move, a stale version. Taken, changing nothing: a repeat.
        item("plain", {"type": "Running", "timestamp": T + 9}),
        item("mapped", {"type": "Success", "timestamp": T + 9}, map_index=12, version=7),
        item("twice", {"type": "Success", "timestamp": T + 1}),
    ]


def _write_both(client: Any, run_id: str) -> list[list[dict[str, Any]]]:
    outcomes = []
    for batch in (_varied_batch(run_id), _second_batch(run_id)):
        answer = client.post("/task_runs/batch", json=batch)
        assert answer.status_code == 200, answer.text
        outcomes.append(answer.json())
    return outcomes


#: Columns that differ between two flow runs given the same batches.
_PER_RUN = ("id", "flow_run_id", "created", "updated")


def _written_on(backend: str, register: Any, create_run: Any) -> tuple[Any, ...]:
    """Both batches written on a new database: (flow run id, outcomes, rows)."""
    with temporary_database(backend) as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with TestClient(app, base_url="http://localhost/api/v1") as client:
            run_id = create_run(client, register(client)["id"])["id"]
            outcomes = _write_both(client, run_id)
        return run_id, outcomes, _rows(db, run_id)


def _cleaned(value: Any) -> Any:
    """``value`` as PostgreSQL stores it: NUL replaced in every string and key."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


@pytest.mark.parametrize("postgres_path", ["statements", "copy"])
def test_sqlite_and_postgresql_store_the_same_rows_from_the_same_batches(
    register, create_run, monkeypatch, postgres_path
):
    """PostgreSQL both ways: a few rows as plain statements, more through COPY."""
    require_postgres()
    if postgres_path == "copy":
        monkeypatch.setattr(bulk, "FEW_ROWS", 0)
    written = {b: _written_on(b, register, create_run) for b in ("sqlite", "postgresql")}

    def same(outcomes: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        return [
            [{**o, "flow_run_id": None, "task_run_id": bool(o["task_run_id"])} for o in batch]
            for batch in outcomes
        ]

    (_, lite, lite_rows), (_, pg, pg_rows) = written["sqlite"], written["postgresql"]
    assert same(lite) == same(pg)
    assert [o["accepted"] for o in lite[0]] == [True] * 9 + [False, False, True, True]
    assert [o["accepted"] for o in lite[1]] == [True] * 6 + [False, False, True]
    assert len(lite_rows) == len(pg_rows) == 11
    # Ids derived from the keys as sent (PostgreSQL stores a slug's NUL cleaned).
    for run_id, outcomes, rows in written.values():
        keys = {(o["task_slug"], o["map_index"]) for b in outcomes for o in b if o["accepted"]}
        derived = {
            uuid.uuid5(task_runs.TASK_RUN_NAMESPACE, f"{run_id}/{slug}/{'' if i < 0 else i}")
            for slug, i in keys
        }
        assert {r["id"] for r in rows} == derived
        # The outcomes name the ids the task runs got.
        assert {o["task_run_id"] for b in outcomes for o in b if o["accepted"]} == {
            str(r["id"]) for r in rows
        }

    def comparable(row: dict[str, Any]) -> dict[str, Any]:
        return {k: _cleaned(v) for k, v in row.items() if k not in _PER_RUN}

    def key(row: dict[str, Any]) -> tuple[str, int]:
        return row["task_slug"], row["map_index"]

    lite_cleaned = sorted((comparable(r) for r in lite_rows), key=key)
    assert sorted((comparable(r) for r in pg_rows), key=key) == lite_cleaned
    for rows in (lite_rows, pg_rows):
        _check_columns({(r["task_slug"], r["map_index"]): r for r in rows})
    lite_nul = {r["task_slug"]: r for r in lite_rows}["nul-text"]
    assert (lite_nul["state_message"], lite_nul["state_data"]) == (
        "a\x00b",
        {"k\x00": ["v\x00", 1]},
    )
    pg_nul = {r["task_slug"]: r for r in pg_rows}["nul-text"]
    assert (pg_nul["state_message"], pg_nul["state_data"]) == (
        "a\ufffdb",
        {"k\ufffd": ["v\ufffd", 1]},
    )
    assert pg_nul["history"][0]["state"]["message"] == "a\ufffdb"
    assert "nul\ufffdslug" in {r["task_slug"] for r in pg_rows}


def _check_columns(by_key: dict[tuple[str, int], dict[str, Any]]) -> None:
    full = by_key["full", -1]
    assert full["state_type"].value == "Success"
    assert (full["state_message"], full["state_timestamp"]) == ("done ✓", T + 0.2)
    assert (full["state_start_time"], full["state_run_count"]) == (T + 0.05, 1)
    assert (full["version"], full["started_at"]) == (2, T + 0.1)
    assert full["state_data"] == {
        "location": "/results/full",
        "map_counts": {"Success": 2, "Failed": 0},
    }
    assert [(h["version"], h["state"]["type"]) for h in full["history"]] == [
        (1, "Running"),
        (2, "Success"),
    ]
    assert full["history"][0]["submitted"] == T
    assert "submitted" not in full["history"][1]
    assert full["history"][1]["state"]["map_counts"] == {"Success": 2, "Failed": 0}
    updated = by_key["mapped", 0]
    assert (updated["version"], updated["state_type"].value) == (2, "Success")
    assert updated["state_data"] == {"location": "/r/m0"}
    assert [h["state"]["type"] for h in updated["history"]] == ["Running", "Success"]
    assert updated["started_at"] == T  # its first Running, kept
    assert (by_key["pending", -1]["version"], by_key["pending", -1]["started_at"]) == (3, T + 6)
    assert by_key["mapped", 1]["state_run_count"] == 2
    assert by_key["twice", -1]["version"] == 2
    assert by_key["plain", -1]["state_data"] is None


def test_a_batch_after_the_first_updates_the_rows_the_fast_path_wrote(client, register, create_run):
    run = create_run(client, register(client)["id"])
    first = [
        {
            "flow_run_id": run["id"],
            "task_slug": "a",
            "states": [{"type": "Running", "timestamp": T}],
        }
    ]
    second = [
        {
            "flow_run_id": run["id"],
            "task_slug": "a",
            "state": {"type": "Success", "timestamp": T + 1},
        },
        {
            "flow_run_id": run["id"],
            "task_slug": "b",
            "state": {"type": "Success", "timestamp": T + 1},
        },
    ]
    assert client.post("/task_runs/batch", json=first).json()[0]["version"] == 1
    # The same batch again (its answer lost): taken, nothing changes.
    again = client.post("/task_runs/batch", json=first).json()[0]
    assert (again["accepted"], again["version"]) == (True, 1)
    written = client.post("/task_runs/batch", json=second).json()
    assert [(w["accepted"], w["version"]) for w in written] == [(True, 2), (True, 1)]
    [a] = [
        t for t in client.get(f"/flow_runs/{run['id']}/task_runs").json() if t["task_slug"] == "a"
    ]
    states = client.get(f"/task_runs/{a['id']}/states").json()
    assert [(h["version"], h["state"]["type"]) for h in states] == [(1, "Running"), (2, "Success")]


#: Slugs the lookup of stored task runs must find as they were sent: an array literal's
#: and JSON's special characters, quotes, spaces, non-ASCII text.
_ODD_SLUGS = ["a,b", 'a"b', "{x}", "back\\slash", " space ", "ünï-✓", "NULL", "'q'"]


def test_task_runs_with_odd_slugs_and_big_map_indexes_are_found_again(client, register, create_run):
    run = create_run(client, register(client)["id"])

    def batch(kind: str, at: float) -> list[dict[str, Any]]:
        keys = [(slug, -1) for slug in _ODD_SLUGS] + [("mapped", i) for i in (0, 40_000, 2**31 - 1)]
        return [
            {
                "flow_run_id": run["id"],
                "task_slug": slug,
                "map_index": index,
                "state": {"type": kind, "timestamp": at},
            }
            for slug, index in keys
        ]

    first = client.post("/task_runs/batch", json=batch("Running", T)).json()
    assert [(o["accepted"], o["version"]) for o in first] == [(True, 1)] * 11
    second = client.post("/task_runs/batch", json=batch("Success", T + 1)).json()
    # Found, not created again: each task run moved on to version 2.
    assert [(o["accepted"], o["version"]) for o in second] == [(True, 2)] * 11
    assert [o["task_run_id"] for o in second] == [o["task_run_id"] for o in first]
