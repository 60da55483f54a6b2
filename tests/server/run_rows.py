"""Helpers for the deletion and retention tests: a run with rows in every table, and counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from weir.server.database import orm

#: Every table with rows of one flow run (by its ``flow_run_id``).
RUN_TABLES = (
    orm.FlowRunLabel,
    orm.FlowRunState,
    orm.TaskRun,
    orm.Log,
    orm.TraceEvent,
    orm.ConcurrencySlot,
)


def rows_of(db: Any, run_id: str) -> dict[str, int]:
    """How many rows the run has in each table (the run itself under ``flow_run``)."""
    import uuid

    rid = uuid.UUID(str(run_id))
    with db.session() as session:
        counts = {
            t.__tablename__: session.scalar(
                select(func.count()).select_from(t).where(t.flow_run_id == rid)
            )
            for t in RUN_TABLES
        }
        counts["flow_run"] = session.scalar(
            select(func.count()).select_from(orm.FlowRun).where(orm.FlowRun.id == rid)
        )
    return counts


def stored_batches(db: Any) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(orm.TaskRunBatch)) or 0)


def set_state(client: Any, run_id: str, kind: str) -> dict[str, Any]:
    version = client.get(f"/flow_runs/{run_id}").json()["version"]
    body = {"state": {"type": kind}, "version": version}
    response = client.post(f"/flow_runs/{run_id}/state", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def fill_run(client: Any, run_id: str, *, tasks: int = 12, lines: int = 12) -> None:
    """Give a run task runs, logs, trace events, a concurrency slot and a few states."""
    set_state(client, run_id, "Running")
    items = [
        {"flow_run_id": run_id, "task_slug": f"t-{i}", "state": {"type": "Success"}}
        for i in range(tasks)
    ]
    assert client.post("/task_runs/batch", json=items).status_code == 200
    logs = [
        {"flow_run_id": run_id, "timestamp": 1.0 + i, "message": f"line {i}"} for i in range(lines)
    ]
    assert client.post("/logs/batch", json=logs).status_code == 201
    trace = [
        {"flow_run_id": run_id, "kind": "task_started", "timestamp": 1.0 + i} for i in range(lines)
    ]
    assert client.post("/trace/batch", json=trace).status_code == 201
    assert client.put("/concurrency_limits/db", json={"limit": 5}).status_code == 200
    body = {"tags": ["db"], "task_run_key": f"{run_id}-t-0", "flow_run_id": run_id}
    assert client.post("/concurrency_limits/acquire", json=body).json()["granted"]


def finish(client: Any, run_id: str, kind: str = "Success") -> None:
    set_state(client, run_id, kind)
