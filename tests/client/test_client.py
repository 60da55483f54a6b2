from __future__ import annotations

import threading

import pytest

from weir.client import Client
from weir.engine.state import Running, Success
from weir.exceptions import ClientError, ConflictError, ObjectNotFound
from weir.schemas import StateData
from weir.server.testing import free_port

FLOW = {
    "name": "etl",
    "tasks": [],
    "edges": [],
    "reference_tasks": [],
    "schedule": None,
    "parameters": [{"name": "n", "slug": "n", "default": 3, "required": False}],
}


@pytest.fixture
def client(api_url):
    with Client(api_url) as c:
        yield c


def test_health(client):
    assert client.health().status == "ok"


def test_create_flow_run_takes_prefect_1s_run_name(client):
    registered = client.register_flow(FLOW, storage={"type": "Local"})
    run = client.create_flow_run(registered.flow.id, run_name="nightly-2026-12-07")
    assert run.name == "nightly-2026-12-07"
    with pytest.raises(ValueError, match="name= and run_name="):
        client.create_flow_run(registered.flow.id, name="a", run_name="b")


def test_register_and_run_a_flow_through_its_lifecycle(client):
    registered = client.register_flow(FLOW, labels=["x"], storage={"type": "Local"})
    assert registered.created and registered.flow.version == 1
    assert not client.register_flow(FLOW, labels=["x"], storage={"type": "Local"}).created
    run = client.create_flow_run(registered.flow.id, parameters={"n": 5})
    assert run.parameters == {"n": 5} and run.labels == ["x"]
    [claimed] = client.claim(["x", "y"], agent_id=client.register_agent("a", ["x", "y"]).id)
    assert claimed.state.type.value == "Submitted"
    written = client.set_flow_run_state(run.id, Running(), claimed.version)
    results = client.upsert_task_runs(
        [
            {"flow_run_id": run.id, "task_slug": "t-1", "state": Running()},
            {"flow_run_id": run.id, "task_slug": "t-1", "state": Success(location="/r")},
        ]
    )
    assert [r.accepted for r in results] == [True, True]
    assert (
        client.write_logs(
            [{"flow_run_id": str(run.id), "timestamp": 1.0, "message": "hi", "task_slug": "t-1"}]
        )
        == 1
    )
    assert (
        client.write_trace_events(
            [{"flow_run_id": str(run.id), "kind": "flow_loaded", "timestamp": 2e9}]
        )
        == 1
    )
    client.set_flow_run_state(run.id, StateData(type="Success"), written.version)
    final = client.wait_for_flow_run(run.id, poll=0.01)
    assert final.state.type.value == "Success"
    [task_run] = client.list_task_runs(run.id)
    assert [h.state.type.value for h in client.task_run_states(task_run.id)] == [
        "Running",
        "Success",
    ]
    assert [log.message for log in client.follow_logs(run.id, poll=0.01)] == ["hi"]
    # The task events are read off the task run's history, in time order with the rest.
    trace = [(e.kind, e.task_slug, e.data) for e in client.get_trace(run.id)]
    assert trace == [
        ("created", None, trace[0][2]),
        ("claimed", None, trace[1][2]),
        ("task_started", "t-1", {}),
        ("task_finished", "t-1", {"state": "Success"}),
        ("flow_loaded", None, {}),
    ]
    assert [r.id for r in client.list_flow_runs(state=["Success"])] == [run.id]


def test_errors_are_typed_and_explain(client):
    flow = client.register_flow(FLOW).flow
    with pytest.raises(ObjectNotFound, match="no flow run"):
        client.get_flow_run("00000000-0000-0000-0000-000000000000")
    with pytest.raises(ClientError, match="no parameter .nope.") as info:
        client.create_flow_run(flow.id, parameters={"nope": 1})
    assert info.value.status_code == 422
    run = client.create_flow_run(flow.id)
    with pytest.raises(ConflictError, match="version"):
        client.set_flow_run_state(run.id, Running(), version=9)


def test_heartbeat_tells_a_run_to_cancel(client):
    run = client.create_flow_run(client.register_flow(FLOW).flow.id)
    client.set_flow_run_state(run.id, Running(), run.version)
    assert client.heartbeat_flow_run(run.id) is False
    client.cancel_flow_run(run.id)
    assert client.heartbeat_flow_run(run.id) is True


def test_long_poll_claim_returns_new_run(client):
    flow = client.register_flow(FLOW).flow
    got: list = []
    t = threading.Thread(target=lambda: got.extend(client.claim(wait=20)))
    t.start()
    run = client.create_flow_run(flow.id)
    t.join(30)
    assert [r.id for r in got] == [run.id]


def test_unreachable_server_raises_client_error_after_retries():
    with Client(f"http://127.0.0.1:{free_port()}/api/v1", retries=2, backoff=0.01) as c:
        with pytest.raises(ClientError, match="Cannot reach the weir server"):
            c.health()


def test_url_and_key_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEIR_API_URL", "http://example.invalid:1/api/v1/")
    monkeypatch.setenv("WEIR_API_KEY", "weir_abc_def")
    c = Client()
    assert c.api_url == "http://example.invalid:1/api/v1"
    assert c._http.headers["Authorization"] == "Bearer weir_abc_def"
    c.close()


def test_lists_are_summaries_unless_full(client):
    flow = client.register_flow(FLOW).flow
    run = client.create_flow_run(flow.id, parameters={"n": 5}, context={"k": "v"})
    [summary] = client.list_flow_runs()
    assert summary.id == run.id and not hasattr(summary, "parameters")
    [full] = client.list_flow_runs(full=True)
    assert full.parameters == {"n": 5} and full.context == {"k": "v"}
    [listed] = client.list_flows()
    assert listed.id == flow.id and not hasattr(listed, "serialized_flow")
    [whole] = client.list_flows(full=True)
    assert whole.serialized_flow["name"] == "etl"


def test_a_heartbeat_is_tried_once_while_other_calls_back_off(monkeypatch):
    # A heartbeat that backed off would leave a live run silent for seconds after its
    # server came back; the next heartbeat, an interval later, is the retry.
    import uuid

    from weir.client import client as client_module

    slept: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", slept.append)
    with Client(f"http://127.0.0.1:{free_port()}/api/v1", retries=3, backoff=0.5) as c:
        with pytest.raises(ClientError, match="Cannot reach"):
            c.heartbeat_flow_run(uuid.uuid4())
        assert slept == []
        with pytest.raises(ClientError, match="Cannot reach"):
            c.get_flow_run(uuid.uuid4())
        assert slept == [0.5, 1.0, 2.0]


def test_a_start_time_may_be_a_datetime_as_prefect_1_clients_gave(client):
    import datetime as dt

    flow = client.register_flow(FLOW, storage={"type": "Local"}).flow
    later = dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    run = client.create_flow_run(flow.id, scheduled_start_time=later)
    assert run.scheduled_start_time == later.timestamp()
    # A naive one is read as UTC, as weir shows times.
    naive = client.create_flow_run(flow.id, scheduled_start_time=later.replace(tzinfo=None))
    assert naive.scheduled_start_time == later.timestamp()
