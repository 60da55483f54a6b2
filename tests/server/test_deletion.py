"""DELETE /flow_runs/{id} and DELETE /flows/{id} (archive), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from weir.schedules import IntervalClock, Schedule
from weir.schemas.actions import Role
from weir.server.models import api_keys
from weir.server.services.scheduler import Scheduler
from weir.server.settings import RetentionSettings, SchedulerSettings

from .run_rows import fill_run, finish, rows_of, set_state, stored_batches

ANY_ID = "00000000-0000-0000-0000-000000000000"
GONE = {
    "flow_run_label": 0,
    "flow_run_state": 0,
    "task_run": 0,
    "log": 0,
    "trace_event": 0,
    "concurrency_slot": 0,
    "flow_run": 0,
}


@pytest.fixture
def small_chunks(make_client):
    """A server deleting 5 rows per transaction, so that a run takes many."""
    return make_client(retention=RetentionSettings(chunk=5, pause=0))


def test_deleting_a_finished_run_removes_all_its_rows(small_chunks, db, register, create_run):
    client = small_chunks
    flow = register(client)
    run = create_run(client, flow["id"], labels=["a", "b"])
    kept = create_run(client, flow["id"], labels=["a"])
    for r in (run, kept):
        fill_run(client, r["id"])
        finish(client, r["id"])
    before = rows_of(db, kept["id"])
    assert all(before.values())
    response = client.delete(f"/flow_runs/{run['id']}")
    assert response.status_code == 204, response.text
    assert rows_of(db, run["id"]) == GONE
    assert rows_of(db, kept["id"]) == before
    assert client.get(f"/flow_runs/{run['id']}").status_code == 404
    assert client.delete(f"/flow_runs/{run['id']}").status_code == 404


def test_a_running_run_is_refused_with_409_saying_to_cancel(client, db, register, create_run):
    run = create_run(client, register(client)["id"])
    fill_run(client, run["id"])
    response = client.delete(f"/flow_runs/{run['id']}")
    assert response.status_code == 409
    assert "cancel it first" in response.json()["detail"]
    assert "Running" in response.json()["detail"]
    assert rows_of(db, run["id"])["task_run"] == 12


def test_a_claimed_run_is_refused_and_a_waiting_one_deleted(client, db, register, create_run):
    flow = register(client)
    waiting = create_run(client, flow["id"], scheduled_start_time=4e9)
    claimed = create_run(client, flow["id"])
    assert [r["id"] for r in client.post("/work/claim", json={}).json()] == [claimed["id"]]
    assert client.delete(f"/flow_runs/{claimed['id']}").status_code == 409
    assert client.delete(f"/flow_runs/{waiting['id']}").status_code == 204
    assert rows_of(db, waiting["id"]) == GONE


def test_an_unknown_run_is_404(client):
    response = client.delete(f"/flow_runs/{ANY_ID}")
    assert response.status_code == 404
    assert "no flow run" in response.json()["detail"]


def test_stored_batches_naming_the_run_go_with_it(client, db, register, create_run):
    run = create_run(client, register(client)["id"])
    set_state(client, run["id"], "Running")
    items = [{"flow_run_id": run["id"], "task_slug": "late", "state": {"type": "Success"}}]
    stored = client.post("/task_runs/batch", params={"wait": "false"}, json=items)
    assert stored.status_code == 202
    assert stored_batches(db) == 1
    finish(client, run["id"], "Failed")
    assert client.delete(f"/flow_runs/{run['id']}").status_code == 204
    assert stored_batches(db) == 0
    assert rows_of(db, run["id"]) == GONE


def test_archiving_a_flow_stops_its_schedule_and_keeps_its_history(
    make_client, db, register, create_run, serialized_flow
):
    client = make_client()
    schedule = Schedule([IntervalClock(dt.timedelta(minutes=1))]).serialize()
    graph = serialized_flow("timed", schedule=schedule, parameters=[])
    flow = client.post("/flows", json={"serialized_flow": graph}).json()["flow"]
    scheduler = Scheduler(db, SchedulerSettings(max_runs=3))
    assert scheduler.run_once() == 3
    past = create_run(client, flow["id"], parameters={})
    fill_run(client, past["id"])
    finish(client, past["id"])
    archived = client.delete(f"/flows/{flow['id']}")
    assert archived.status_code == 200, archived.text
    assert archived.json()["archived"] is True
    assert "serialized_flow" not in archived.json()
    assert [r["id"] for r in client.get("/flow_runs").json()] == [past["id"]]
    assert rows_of(db, past["id"])["task_run"] == 12
    assert scheduler.run_once() == 0
    assert client.get("/flows").json() == []
    assert client.get(f"/flows/{flow['id']}").json()["archived"] is True
    assert client.delete(f"/flows/{ANY_ID}").status_code == 404


def _key(db, role: Role) -> dict[str, str]:
    with db.session(write=True) as session:
        return {"Authorization": f"Bearer {api_keys.create(session, role.value, role)[1]}"}


def test_deleting_and_archiving_need_an_admin_key(make_client, db, register, create_run):
    client = make_client(auth=True)
    admin, agent = _key(db, Role.ADMIN), _key(db, Role.AGENT)
    client.headers.update(admin)
    flow = register(client)
    run = create_run(client, flow["id"])
    for path in (f"/flow_runs/{run['id']}", f"/flows/{flow['id']}"):
        refused = client.delete(path, headers=agent)
        assert refused.status_code == 403
        assert "admin key" in refused.json()["detail"]
        assert client.delete(path, headers=_key(db, Role.READ_ONLY)).status_code == 403
    assert client.delete(f"/flow_runs/{run['id']}").status_code == 204
    assert client.delete(f"/flows/{flow['id']}").status_code == 200
