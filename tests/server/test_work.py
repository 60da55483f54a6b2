"""Claims: label matching, long polling, and no run ever claimed twice."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest

from weir.schemas import actions
from weir.server.app import create_app
from weir.server.models import flow_runs
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer


def test_claim_moves_due_runs_to_submitted_once(client, register, create_run):
    run = create_run(client, register(client)["id"])
    agent = client.post("/agents", json={"name": "a1"}).json()
    claimed = client.post("/work/claim", json={"agent_id": agent["id"]}).json()
    assert [(r["id"], r["state"]["type"], r["version"]) for r in claimed] == [
        (run["id"], "Submitted", 2)
    ]
    assert claimed[0]["agent_id"] == agent["id"]
    assert client.post("/work/claim", json={}).json() == []
    claim_event = client.get(f"/flow_runs/{run['id']}/trace").json()[-1]
    assert claim_event["kind"] == "claimed"
    assert claim_event["data"]["agent_name"] == "a1"


def test_a_run_goes_only_to_agents_having_all_its_labels(client, register, create_run):
    flow = register(client)
    gpu = create_run(client, flow["id"], labels=["gpu", "linux"])
    plain = create_run(client, flow["id"], labels=[])
    assert client.post("/work/claim", json={"labels": ["gpu"]}).json()[0]["id"] == plain["id"]
    assert client.post("/work/claim", json={"labels": ["gpu"]}).json() == []
    assert client.post("/work/claim", json={"labels": []}).json() == []  # no labels at all
    taken = client.post("/work/claim", json={"labels": ["linux", "gpu", "big"]}).json()
    assert [r["id"] for r in taken] == [gpu["id"]]


def test_future_runs_are_not_due(client, register, create_run):
    create_run(client, register(client)["id"], scheduled_start_time=4e9)
    assert client.post("/work/claim", json={}).json() == []


def test_unknown_agent_is_404(client):
    response = client.post("/work/claim", json={"agent_id": "00000000-0000-0000-0000-000000000002"})
    assert response.status_code == 404


def test_long_poll_answers_with_a_run_created_while_waiting(db):
    app = create_app(
        ServerSettings(database_url=db.url, claim_poll_seconds=30), db=db, migrate=False
    )
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        flow = http.post("/flows", json={"serialized_flow": {"name": "f"}}).json()["flow"]
        answer: list[object] = []
        waiter = threading.Thread(
            target=lambda: answer.append(http.post("/work/claim", json={"wait": 20}).json())
        )
        waiter.start()
        # The claim is already waiting (or about to); a new run must wake it.
        run = http.post("/flow_runs", json={"flow_id": flow["id"]}).json()
        waiter.join(30)
        assert answer and [r["id"] for r in answer[0]] == [run["id"]]


def test_every_write_that_makes_a_run_claimable_wakes_waiting_claims(
    client, register, create_run, serialized_flow
):
    """Creating, restarting, backfilling and setting a run waiting again each bump the
    work signal once committed, whichever route wrote it; other writes do not."""
    work = client.app.state.weir.work

    def wakes(method: str, path: str, body: object = None, status: int = 200) -> bool:
        before = work.generation
        response = client.request(method, path, json=body)
        assert response.status_code == status, response.text
        return work.generation > before

    flow = register(client)
    assert wakes("POST", "/flow_runs", {"flow_id": flow["id"], "parameters": {"who": "me"}}, 201)
    run = client.get("/flow_runs", params={"flow_id": flow["id"]}).json()[0]
    state = f"/flow_runs/{run['id']}/state"
    assert not wakes("POST", "/work/claim", {})  # Submitted: nothing new to take
    assert not wakes("POST", state, {"state": {"type": "Running"}, "version": 2})
    assert not wakes("POST", state, {"state": {"type": "Failed"}, "version": 3})
    assert wakes("POST", f"/flow_runs/{run['id']}/restart")
    assert not wakes("POST", f"/flow_runs/{run['id']}/restart", status=409)  # refused
    version = client.post("/work/claim", json={}).json()[0]["version"]
    assert not wakes("POST", state, {"state": {"type": "Running"}, "version": version})
    retry = {"state": {"type": "Retrying", "start_time": 4e9}, "version": version + 1}
    assert wakes("POST", state, retry)
    clock = {"type": "IntervalClock", "interval": 3600, "start_date": "2023-01-01T00:00:00+00:00"}
    hourly = serialized_flow("hourly", schedule={"clocks": [clock]}, parameters=[])
    scheduled = client.post("/flows", json={"serialized_flow": hourly}).json()["flow"]
    window = {"start": 1_700_000_000, "end": 1_700_007_200}
    assert wakes("POST", f"/flows/{scheduled['id']}/backfill", window)
    assert not wakes("POST", f"/flows/{scheduled['id']}/backfill", window)  # none new


def _counting_claims(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every look a claim takes: "first_start" (SQLite's look before it locks),
    "claim"."""
    from weir.server.models import work

    looks: list[str] = []
    for name in ("first_start", "claim"):
        original = getattr(work, name)

        def counted(*args: object, _f: object = original, _n: str = name, **kw: object) -> object:
            looks.append(_n)
            return _f(*args, **kw)  # type: ignore[operator]

        monkeypatch.setattr(work, name, counted)
    return looks


def test_a_waiting_claim_sleeps_until_the_next_run_falls_due(db, monkeypatch):
    """A server that sees every write (SQLite, services here) does not poll: a waiting
    claim looks once, then again when the run it knows of falls due."""
    if not db.is_sqlite:
        pytest.skip("other servers may write to PostgreSQL: claims poll there")
    app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False, services=True)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        flow = http.post("/flows", json={"serialized_flow": {"name": "f"}}).json()["flow"]
        # The services lead from start-up on SQLite, before the first claim.
        assert http.get("/health").json()["services"] == "leader"
        soon = time.time() + 1.5
        run = http.post(
            "/flow_runs", json={"flow_id": flow["id"], "scheduled_start_time": soon}
        ).json()
        looks = _counting_claims(monkeypatch)
        taken = http.post("/work/claim", json={"wait": 20}).json()
        assert [r["id"] for r in taken] == [run["id"]]
        assert time.time() >= soon
        # Polling every claim_poll_seconds (0.25) would have looked six times or more.
        assert len(looks) <= 4, looks
        looks.clear()
        assert http.post("/work/claim", json={"wait": 1.5}).json() == []
        assert len(looks) <= 2, looks


@pytest.mark.slow
def test_eight_claimers_over_two_thousand_runs_claim_each_exactly_once(db, register):
    with db.session(write=True) as session:
        from weir.server.models import flows

        flow, _ = flows.register(session, actions.FlowCreate(serialized_flow={"name": "race"}))
        for _ in range(2000):
            flow_runs.create(session, actions.FlowRunCreate(flow_id=flow.id), now=1.0)
    app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            while True:
                runs = http.post("/work/claim", json={"limit": 7}).json()
                if not runs:
                    return
                with lock:
                    claimed.extend(r["id"] for r in runs)

    with LiveServer(app) as server:
        threads = [threading.Thread(target=claimer) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    counts = Counter(claimed)
    assert len(counts) == 2000
    assert max(counts.values()) == 1
    with db.session() as session:
        from sqlalchemy import func, select

        from weir.server.database import orm

        rows = session.execute(
            select(orm.FlowRun.state_type, orm.FlowRun.version, func.count()).group_by(
                orm.FlowRun.state_type, orm.FlowRun.version
            )
        ).all()
    assert [(t.value, v, n) for t, v, n in rows] == [("Submitted", 2, 2000)]


def test_an_agent_reads_many_runs_in_one_request(client, register, create_run):
    flow = register(client)
    runs = [create_run(client, flow["id"]) for _ in range(3)]
    client.post("/work/claim", json={"limit": 2})
    unknown = "00000000-0000-0000-0000-000000000009"
    ids = [r["id"] for r in runs] + [unknown]
    read = client.post("/work/runs", json={"flow_run_ids": ids}).json()
    # The runs that exist, each as GET /flow_runs/{id} answers; an unknown id is left out.
    assert sorted(r["id"] for r in read) == sorted(r["id"] for r in runs)
    for r in read:
        assert r == client.get(f"/flow_runs/{r['id']}").json()
    assert sorted(r["state"]["type"] for r in read) == ["Scheduled", "Submitted", "Submitted"]


@pytest.mark.parametrize("ids", [[], ["not-a-uuid"]])
def test_reading_runs_needs_their_ids(client, ids):
    response = client.post("/work/runs", json={"flow_run_ids": ids})
    assert response.status_code == 422
    assert "flow_run_ids" in response.text


def _event(run_id: str, kind: str, ts: float = 1.0) -> dict[str, object]:
    return {"flow_run_id": run_id, "kind": kind, "timestamp": ts, "data": {"pid": 7}}


def _kinds(client, run_id: str) -> list[str]:
    return [e["kind"] for e in client.get(f"/flow_runs/{run_id}/trace").json()]


def test_a_claim_stores_the_trace_events_it_carries_first(client, register, create_run):
    flow = register(client)
    launched = create_run(client, flow["id"])
    client.post("/work/claim", json={})
    waiting = create_run(client, flow["id"], scheduled_start_time=4e9)
    # Nothing due: the events are stored all the same, once, though the claim looks twice.
    body = {"wait": 0.3, "trace": [_event(launched["id"], "process_launched")]}
    assert client.post("/work/claim", json=body).json() == []
    assert _kinds(client, launched["id"]).count("process_launched") == 1
    assert "process_launched" not in _kinds(client, waiting["id"])


def test_a_claim_goes_on_when_its_trace_events_cannot_be_stored(client, register, create_run):
    run = create_run(client, register(client)["id"])
    unknown = "00000000-0000-0000-0000-000000000009"
    body = {"trace": [_event(unknown, "process_launched")]}
    claimed = client.post("/work/claim", json=body).json()
    assert [r["id"] for r in claimed] == [run["id"]]


def test_a_claims_trace_events_are_checked_like_a_trace_batch(client):
    body = {"trace": [{"flow_run_id": "not-a-uuid", "kind": "x", "timestamp": 1.0}]}
    response = client.post("/work/claim", json=body)
    assert response.status_code == 422
    assert "trace" in response.text and "flow_run_id" in response.text


def test_reading_runs_stores_their_exit_events_first(client, register, create_run):
    run = create_run(client, register(client)["id"])
    client.post("/work/claim", json={})
    body = {"flow_run_ids": [run["id"]], "trace": [_event(run["id"], "process_exited", 2e9)]}
    read = client.post("/work/runs", json=body).json()
    assert [r["id"] for r in read] == [run["id"]]
    assert _kinds(client, run["id"])[-1] == "process_exited"


def test_the_look_before_a_claim_finds_the_first_start_the_labels_allow(
    client, db, register, create_run
):
    from weir.server.models import work

    flow = register(client)
    create_run(client, flow["id"], scheduled_start_time=3e9, labels=["gpu"])
    create_run(client, flow["id"], scheduled_start_time=3.5e9)
    create_run(client, flow["id"], scheduled_start_time=2e9, labels=["gpu", "big"])
    with db.session() as session:
        assert work.first_start(session, []) == 3.5e9
        assert work.first_start(session, ["gpu"]) == 3e9
        assert work.first_start(session, ["big", "gpu"]) == 2e9
        assert work.first_start(session, ["other"]) == 3.5e9


def test_the_look_before_a_claim_walks_the_start_time_index_in_order(db):
    """A backlog of future runs is not read whole (and sorted) at every idle look."""
    from sqlalchemy import event

    from weir.server.models import work

    if not db.is_sqlite:
        pytest.skip("the plan asked of SQLite; PostgreSQL's is an index scan per state too")
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, params, context, executemany):
        seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        with db.session() as session:
            work.first_start(session, ["x"])
            work.next_due(session, ["x"], 1e9)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    looks = [s for s in seen if "start_time" in s[0]]
    assert len(looks) == 2
    for statement, params in looks:
        with db.session() as session:
            cursor = session.connection().connection.cursor()
            plan = [row[3] for row in cursor.execute("EXPLAIN QUERY PLAN " + statement, params)]
        assert sum("ix_flow_run_state_type_start_time" in step for step in plan) == 3, plan
        assert not any("TEMP B-TREE" in step for step in plan), plan
