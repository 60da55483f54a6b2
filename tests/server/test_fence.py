"""Attempts: every claim gives a run a new one, and writes from an older one are refused.

Also: a run ended by someone other than its process has its open task runs closed.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from weir.schemas.actions import ATTEMPT_HEADER
from weir.server.database import orm
from weir.server.services.batch_writer import BatchWriter


def _attempt(n: int) -> dict[str, str]:
    return {ATTEMPT_HEADER: str(n)}


def _claim(client: Any) -> dict[str, Any]:
    [run] = client.post("/work/claim", json={"labels": [], "limit": 1}).json()
    return run


def _reschedule(client: Any, run: dict[str, Any]) -> None:
    """What lazarus does to a silent run: Scheduled again, due now."""
    body = {"state": {"type": "Scheduled", "start_time": 0}, "version": run["version"]}
    assert client.post(f"/flow_runs/{run['id']}/state", json=body).status_code == 200


def _run(client: Any, run_id: str) -> dict[str, Any]:
    return client.get(f"/flow_runs/{run_id}").json()


def _item(run_id: str, slug: str, *kinds: str) -> dict[str, Any]:
    return {"flow_run_id": run_id, "task_slug": slug, "states": [{"type": k} for k in kinds]}


def _start_running(client: Any, run: dict[str, Any]) -> dict[str, Any]:
    """The run's process (of its current attempt) sets it Running; the state written."""
    body = {"state": {"type": "Running"}, "version": run["version"]}
    written = client.post(
        f"/flow_runs/{run['id']}/state", json=body, headers=_attempt(run["attempt"])
    )
    assert written.status_code == 200, written.text
    return written.json()


def _refused_as_superseded(response: Any, by: int) -> None:
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["field"] == "attempt"
    assert f"taken over by attempt {by}" in body["detail"]


@pytest.fixture
def no_writer_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's writer thread off: stored batches stay stored until a read."""
    monkeypatch.setattr(BatchWriter, "_loop", lambda self: None)


@pytest.fixture
def taken_over(client: Any, register: Any, create_run: Any) -> dict[str, Any]:
    """A run claimed (attempt 1), Running, rescheduled and claimed again (attempt 2)."""
    run_id = create_run(client, register(client)["id"])["id"]
    assert _run(client, run_id)["attempt"] == 0
    first = _claim(client)
    assert first["attempt"] == 1
    _start_running(client, first)
    _reschedule(client, _run(client, run_id))
    second = _claim(client)
    assert second["id"] == run_id and second["attempt"] == 2
    return second


def test_every_claim_gives_the_run_a_new_attempt(client, taken_over):
    trace = client.get(f"/flow_runs/{taken_over['id']}/trace").json()
    assert [e["data"]["attempt"] for e in trace if e["kind"] == "claimed"] == [1, 2]


def test_a_state_write_from_an_older_attempt_is_refused_and_changes_nothing(client, taken_over, db):
    run_id = taken_over["id"]
    before = _run(client, run_id)
    body = {
        "state": {"type": "Success"},
        "version": before["version"],  # even with the current version
        "task_runs": [_item(run_id, "a", "Running", "Success")],
        "logs": [{"flow_run_id": run_id, "timestamp": 1.0, "level": 20, "message": "hi"}],
    }
    _refused_as_superseded(
        client.post(f"/flow_runs/{run_id}/state", json=body, headers=_attempt(1)), by=2
    )
    after = _run(client, run_id)
    assert (after["state"]["type"], after["version"]) == ("Submitted", before["version"])
    assert client.get(f"/flow_runs/{run_id}/task_runs").json() == []
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(orm.TaskRunBatch)) == 0
    # The current attempt writes; so does a writer that sends no attempt (an agent).
    body = {"state": {"type": "Running"}, "version": before["version"]}
    assert client.post(f"/flow_runs/{run_id}/state", json=body, headers=_attempt(2)).is_success


def test_a_heartbeat_from_an_older_attempt_keeps_nothing_alive(client, taken_over, db):
    run_id = taken_over["id"]
    with db.session() as session:
        before = session.get(orm.FlowRun, uuid.UUID(run_id)).heartbeat
    _refused_as_superseded(client.post(f"/flow_runs/{run_id}/heartbeat", headers=_attempt(1)), by=2)
    with db.session() as session:
        assert session.get(orm.FlowRun, uuid.UUID(run_id)).heartbeat == before
    answer = client.post(f"/flow_runs/{run_id}/heartbeat", headers=_attempt(2))
    assert answer.status_code == 200 and answer.json() == {"cancel": False}


@pytest.mark.parametrize("wait", ["true", "false"])
def test_a_task_run_batch_from_an_older_attempt_is_refused_at_the_door(
    client, taken_over, db, no_writer_thread, wait
):
    run_id = taken_over["id"]
    batch = [_item(run_id, "a", "Running", "Success")]
    sent = client.post("/task_runs/batch", params={"wait": wait}, json=batch, headers=_attempt(1))
    _refused_as_superseded(sent, by=2)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(orm.TaskRunBatch)) == 0
    assert client.get(f"/flow_runs/{run_id}/task_runs").json() == []
    sent = client.post("/task_runs/batch", params={"wait": wait}, json=batch, headers=_attempt(2))
    assert sent.is_success
    assert [t["state"]["type"] for t in client.get(f"/flow_runs/{run_id}/task_runs").json()] == [
        "Success"
    ]


def test_a_single_task_run_write_from_an_older_attempt_is_refused(client, taken_over):
    run_id = taken_over["id"]
    [written] = client.post("/task_runs/batch", json=[_item(run_id, "a", "Running")]).json()
    url = f"/task_runs/{written['task_run_id']}/state"
    body = {"state": {"type": "Success"}, "version": written["version"]}
    _refused_as_superseded(client.post(url, json=body, headers=_attempt(1)), by=2)
    assert client.get(f"/task_runs/{written['task_run_id']}").json()["state"]["type"] == "Running"
    assert client.post(url, json=body, headers=_attempt(2)).status_code == 200


def test_a_bad_attempt_header_is_a_422_naming_it(client, taken_over):
    answer = client.post(
        f"/flow_runs/{taken_over['id']}/heartbeat", headers={ATTEMPT_HEADER: "first"}
    )
    assert answer.status_code == 422
    assert ATTEMPT_HEADER.lower() in answer.text.lower()


def test_a_run_failed_by_its_agent_closes_its_open_task_runs_after_stored_batches(
    client, taken_over, no_writer_thread
):
    run_id = taken_over["id"]
    running = _start_running(client, taken_over)
    batch = [
        _item(run_id, "done", "Running", "Success"),
        _item(run_id, "going", "Running"),
        _item(run_id, "waiting", "Pending"),
        _item(run_id, "later", "Running"),
    ]
    assert client.post("/task_runs/batch", json=batch[2:], headers=_attempt(2)).is_success
    # Stored, not yet written, when the agent fails the run: "later" finishes in it.
    stored = [_item(run_id, "later", "Success"), *batch[:2]]
    sent = client.post("/task_runs/batch", params={"wait": "false"}, json=stored)
    assert sent.status_code == 202
    message = "Flow run process exited with code -9 (SIGKILL)\nIt crashed 3 times; giving up."
    failed = client.post(
        f"/flow_runs/{run_id}/state",
        json={"state": {"type": "Failed", "message": message}, "version": running["version"]},
    )
    assert failed.status_code == 200, failed.text
    task_runs = {
        t["task_slug"]: t["state"] for t in client.get(f"/flow_runs/{run_id}/task_runs").json()
    }
    assert {slug: s["type"] for slug, s in task_runs.items()} == {
        "done": "Success",
        "later": "Success",
        "going": "Failed",
        "waiting": "Failed",
    }
    assert "ended Failed while this task run was Running" in task_runs["going"]["message"]
    assert "exited with code -9" in task_runs["going"]["message"]


def test_a_run_cancelled_while_waiting_closes_what_an_earlier_attempt_left(
    client, register, create_run
):
    run_id = create_run(client, register(client)["id"])["id"]
    claimed = _claim(client)
    body = {"state": {"type": "Running"}, "version": claimed["version"]}
    running = client.post(f"/flow_runs/{run_id}/state", json=body, headers=_attempt(1)).json()
    client.post("/task_runs/batch", json=[_item(run_id, "a", "Running")], headers=_attempt(1))
    _reschedule(client, {"id": run_id, "version": running["version"]})
    assert client.post(f"/flow_runs/{run_id}/cancel").json()["state"]["type"] == "Cancelled"
    [task_run] = client.get(f"/flow_runs/{run_id}/task_runs").json()
    assert task_run["state"]["type"] == "Cancelled"


def test_the_process_ending_its_run_leaves_its_task_runs_alone(client, taken_over):
    run_id = taken_over["id"]
    running = _start_running(client, taken_over)
    client.post("/task_runs/batch", json=[_item(run_id, "a", "Running")], headers=_attempt(2))
    body = {"state": {"type": "Failed"}, "version": running["version"]}
    assert client.post(f"/flow_runs/{run_id}/state", json=body, headers=_attempt(2)).is_success
    [task_run] = client.get(f"/flow_runs/{run_id}/task_runs").json()
    assert task_run["state"]["type"] == "Running"  # the process reports its own
