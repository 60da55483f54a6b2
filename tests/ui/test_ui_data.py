"""The read-only views under /api/v1/ui that the pages use, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import clear, require_postgres, temporary_database

from .agent_flows import etl_flow

NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    if request.param == "postgresql":
        require_postgres()
    with temporary_database(request.param) as db:
        yield db


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(database: Database, clock: Clock) -> Iterator[TestClient]:
    clear(database)
    app = create_app(ServerSettings(database_url=database.url), db=database, clock=clock)
    with TestClient(app, base_url="http://localhost/api/v1") as client:
        yield client


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _register(client: TestClient, serialized: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"serialized_flow": serialized or etl_flow().serialize()}
    return _ok(client.post("/flows", json=body))["flow"]


def _run(client: TestClient, flow_id: str, start: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"flow_id": flow_id}
    if start is not None:
        body["scheduled_start_time"] = start
    return _ok(client.post("/flow_runs", json=body))


def _move(client: TestClient, run: dict[str, Any], *types: str) -> dict[str, Any]:
    version = run["version"]
    for kind in types:
        body = {"state": {"type": kind, "timestamp": NOW}, "version": version}
        version = _ok(client.post(f"/flow_runs/{run['id']}/state", json=body))["version"]
    return _ok(client.get(f"/flow_runs/{run['id']}"))


def test_dashboard_on_an_empty_server(client: TestClient) -> None:
    data = _ok(client.get("/ui/dashboard", params={"hours": 6, "buckets": 6}))
    assert len(data["runs"]["buckets"]) == 6
    assert data["runs"]["totals"] == {}
    assert data["late"] == data["failed"] == data["upcoming"] == data["agents"] == []


def test_dashboard_counts_runs_by_state_and_lists_late_failed_upcoming(
    client: TestClient, clock: Clock
) -> None:
    flow = _register(client)
    done = _move(client, _run(client, flow["id"], NOW - 5 * 3600), "Running", "Success")
    failed = _move(client, _run(client, flow["id"], NOW - 3 * 3600), "Running", "Failed")
    late = _run(client, flow["id"], NOW - 600)
    upcoming = _run(client, flow["id"], NOW + 600)
    old = _run(client, flow["id"], NOW - 48 * 3600)  # outside the window
    _ok(client.post("/agents", json={"name": "a1", "labels": ["x"]}))
    data = _ok(client.get("/ui/dashboard", params={"hours": 24, "buckets": 24}))
    assert data["runs"]["totals"] == {"Success": 1, "Failed": 1, "Scheduled": 1}
    by_bucket = [b["counts"] for b in data["runs"]["buckets"] if b["counts"]]
    assert by_bucket == [{"Success": 1}, {"Failed": 1}, {"Scheduled": 1}]
    assert [r["id"] for r in data["late"]] == [old["id"], late["id"]]
    assert [r["id"] for r in data["failed"]] == [failed["id"]]
    assert [r["id"] for r in data["upcoming"]] == [upcoming["id"]]
    assert data["running"] == []
    assert [a["name"] for a in data["agents"]] == ["a1"]
    assert done["state"]["type"] == "Success"


def test_dashboard_refuses_bad_windows(client: TestClient) -> None:
    assert client.get("/ui/dashboard", params={"hours": 0}).status_code == 422
    assert client.get("/ui/dashboard", params={"buckets": 0}).status_code == 422


def test_flows_overview_versions_next_runs_and_last_run(client: TestClient) -> None:
    first = _register(client)
    changed = etl_flow().serialize()
    changed["tasks"][0]["tags"] = ["changed"]
    flow = _register(client, changed)
    assert flow["version"] == 2
    done = _move(client, _run(client, flow["id"], NOW - 60), "Running", "Success")
    nexts = [_run(client, flow["id"], NOW + 60 * i) for i in range(1, 5)]
    (item,) = _ok(client.get("/ui/flows"))
    assert item["id"] == flow["id"] != first["id"]
    assert item["versions"] == 2
    assert item["tasks"] == len(changed["tasks"])
    assert item["has_schedule"] is False
    assert item["next_runs"] == [r["start_time"] for r in nexts[:3]]
    assert item["last_run"]["id"] == done["id"]
    assert item["last_run"]["state"] == "Success"


def _task_states(client: TestClient, run_id: str, slug: str, states: list[str], index: int = -1):
    items = [
        {
            "flow_run_id": run_id,
            "task_slug": slug,
            "map_index": index,
            "state": {"type": s, "timestamp": NOW + i},
        }
        for i, s in enumerate(states)
    ]
    for written in _ok(client.post("/task_runs/batch", json=items)):
        assert written["accepted"], written


def test_run_overview_summarises_mapped_children_as_counts(client: TestClient) -> None:
    flow = _register(client)
    run = _move(client, _run(client, flow["id"]), "Running")
    _task_states(client, run["id"], "extract-1", ["Running", "Success"])
    _task_states(client, run["id"], "transform-1", ["Running", "Mapped"])
    for index in range(50):
        final = "Failed" if index == 7 else "Success"
        _task_states(client, run["id"], "transform-1", ["Running", final], index)
    _task_states(client, run["id"], "load-1", ["Pending"])
    trace = [
        {"flow_run_id": run["id"], "kind": "flow_loaded", "timestamp": NOW + 1},
        {"flow_run_id": run["id"], "kind": "task_started", "timestamp": NOW + 2, "task_slug": "x"},
    ]
    _ok(client.post("/trace/batch", json=trace))
    data = _ok(client.get(f"/ui/flow_runs/{run['id']}"))
    assert data["run"]["id"] == run["id"]
    tasks = {t["slug"]: t for t in data["tasks"]}
    assert tasks["extract-1"]["state"] == "Success"
    assert tasks["extract-1"]["children"] == 0
    assert tasks["extract-1"]["start"] == NOW
    assert tasks["extract-1"]["end"] == NOW + 1
    mapped = tasks["transform-1"]
    assert mapped["state"] == "Mapped"
    assert mapped["children"] == 50
    assert mapped["counts"] == {"Success": 49, "Failed": 1}
    assert mapped["start"] == NOW and mapped["end"] == NOW + 1
    assert tasks["load-1"]["state"] == "Pending" and tasks["load-1"]["start"] is None
    # The run's own lifecycle, not every task's events.
    assert [e["kind"] for e in data["lifecycle"]] == ["created", "flow_loaded"]
    assert data["flow"] is None
    with_flow = _ok(client.get(f"/ui/flow_runs/{run['id']}", params={"include_flow": True}))
    assert with_flow["flow"]["id"] == flow["id"]
    assert with_flow["flow"]["serialized_flow"]["name"] == "ui-etl"


def test_run_overview_of_an_unknown_run_is_404(client: TestClient) -> None:
    response = client.get("/ui/flow_runs/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "no flow run" in response.json()["detail"]


def test_views_need_a_key_when_auth_is_on(database: Database) -> None:
    app = create_app(ServerSettings(database_url=database.url, auth=True), db=database)
    with TestClient(app, base_url="http://localhost/api/v1") as client:
        for path in ("/ui/dashboard", "/ui/flows"):
            assert client.get(path).status_code == 401


def test_run_overview_can_answer_only_what_changed(client: TestClient, clock: Clock) -> None:
    flow = _register(client)
    run = _move(client, _run(client, flow["id"]), "Running")
    _task_states(client, run["id"], "extract-1", ["Running", "Success"])
    first = _ok(client.get(f"/ui/flow_runs/{run['id']}"))
    assert first["complete"] is True
    assert first["as_of"] < NOW  # looks back a little, for writes still in flight
    clock.now += 60
    _task_states(client, run["id"], "transform-1", ["Running"], index=0)
    query = {"changed_after": first["as_of"] + 30}
    changed = _ok(client.get(f"/ui/flow_runs/{run['id']}", params=query))
    assert changed["complete"] is False
    assert [t["slug"] for t in changed["tasks"]] == ["transform-1"]
    assert changed["tasks"][0]["counts"] == {"Running": 1}
    later = {"changed_after": clock.now + 1}
    assert _ok(client.get(f"/ui/flow_runs/{run['id']}", params=later))["tasks"] == []


def test_task_detail_puts_failed_and_unfinished_children_first(client: TestClient) -> None:
    flow = _register(client)
    run = _move(client, _run(client, flow["id"]), "Running")
    _task_states(client, run["id"], "transform-1", ["Running", "Mapped"])
    for index in range(20):
        states = {5: ["Running", "Failed"], 9: ["Running"]}.get(index, ["Running", "Success"])
        _task_states(client, run["id"], "transform-1", states, index)
    url = f"/ui/flow_runs/{run['id']}/task"
    data = _ok(client.get(url, params={"slug": "transform-1", "limit": 4}))
    assert data["summary"]["children"] == 20
    assert data["summary"]["counts"] == {"Success": 18, "Failed": 1, "Running": 1}
    got = [(c["map_index"], c["state"]["type"]) for c in data["children"]]
    assert got == [(5, "Failed"), (9, "Running"), (0, "Success"), (1, "Success")]
    none = _ok(client.get(url, params={"slug": "no-such-task"}))
    assert none == {"summary": None, "children": []}
    assert client.get(url, params={"slug": ""}).status_code == 422
