"""New task runs written straight as rows (fresh_task_runs) are the rows the general path writes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from weir.server.database import orm
from weir.server.models import task_runs

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


#: Columns that differ between two flow runs given the same batch.
_PER_RUN = ("id", "flow_run_id", "created", "updated")


def test_new_task_runs_are_the_rows_the_general_path_writes(
    client, db, register, create_run, monkeypatch: pytest.MonkeyPatch
):
    flow_id = register(client)["id"]
    fast_run, general_run = create_run(client, flow_id), create_run(client, flow_id)
    fast = client.post("/task_runs/batch", json=_varied_batch(fast_run["id"])).json()
    monkeypatch.setattr(task_runs, "_builds_fresh_rows", lambda session: False)
    general = client.post("/task_runs/batch", json=_varied_batch(general_run["id"])).json()

    def outcome(o: dict[str, Any], run_id: str) -> dict[str, Any]:
        return {**o, "flow_run_id": None, "task_run_id": o["task_run_id"] and run_id}

    assert [outcome(o, "x") for o in fast] == [outcome(o, "x") for o in general]
    assert [o["accepted"] for o in fast] == [True] * 8 + [False, False, True, True]
    fast_rows, general_rows = _rows(db, fast_run["id"]), _rows(db, general_run["id"])
    assert len(fast_rows) == 9
    # Ids derived from the keys as sent (PostgreSQL stores a slug's NUL cleaned).
    for rows, run_id, outcomes in [
        (fast_rows, fast_run["id"], fast),
        (general_rows, general_run["id"], general),
    ]:
        keys = {(o["task_slug"], o["map_index"]) for o in outcomes if o["accepted"]}
        derived = {
            uuid.uuid5(task_runs.TASK_RUN_NAMESPACE, f"{run_id}/{slug}/{'' if i < 0 else i}")
            for slug, i in keys
        }
        assert {r["id"] for r in rows} == derived

    def comparable(row: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v for k, v in row.items() if k not in ("id", "flow_run_id", "created", "updated")
        }

    assert [comparable(r) for r in fast_rows] == [comparable(r) for r in general_rows]
    full = next(r for r in fast_rows if r["task_slug"] == "full")
    assert full["started_at"] == T + 0.1
    assert full["state_data"] == {
        "location": "/results/full",
        "map_counts": {"Success": 2, "Failed": 0},
    }
    assert full["history"][0]["submitted"] == T
    assert "submitted" not in full["history"][1]
    # Their outcomes name the ids the task runs got.
    assert {o["task_run_id"] for o in fast if o["accepted"]} == {str(r["id"]) for r in fast_rows}


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
