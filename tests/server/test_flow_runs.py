from __future__ import annotations

from sqlalchemy import event


def test_create_fills_defaults_and_starts_scheduled(client, register, create_run):
    flow = register(client, labels=["gpu"])
    run = create_run(client, flow["id"])
    assert run["parameters"] == {"n": 3, "who": "me"}
    assert run["state"]["type"] == "Scheduled"
    assert run["version"] == 1
    assert run["labels"] == ["gpu"]
    assert run["flow_name"] == "etl"


def test_create_reads_the_flow_once_and_takes_a_savepoint_only_for_a_key(client, db, register):
    """The answer names the flow the run was made from without reading it again; the
    savepoint guards an idempotency race only, so a run without a key has none."""
    flow = register(client, name="once")
    seen: list[str] = []

    def keep(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    event.listen(db.write_engine, "before_cursor_execute", keep)
    try:
        plain = client.post("/flow_runs", json={"flow_id": flow["id"], "parameters": {"who": 1}})
        plain_statements, seen[:] = list(seen), []
        keyed = client.post(
            "/flow_runs",
            json={"flow_id": flow["id"], "parameters": {"who": 1}, "idempotency_key": "k"},
        )
    finally:
        event.remove(db.write_engine, "before_cursor_execute", keep)
    assert (plain.status_code, keyed.status_code) == (201, 201)
    assert plain.json()["flow_name"] == keyed.json()["flow_name"] == "once"
    assert plain.json()["flow_version"] == flow["version"]
    inserted = next(i for i, s in enumerate(plain_statements) if "INSERT INTO flow_run " in s)
    after = plain_statements[inserted:]
    assert not [s for s in after if "FROM flow " in s or "FROM flow\n" in s], after
    assert not any("SAVEPOINT" in s.upper() for s in plain_statements)
    assert any("SAVEPOINT" in s.upper() for s in seen)


def test_unknown_parameter_is_422_naming_it(client, register):
    flow = register(client)
    response = client.post(
        "/flow_runs", json={"flow_id": flow["id"], "parameters": {"who": 1, "bogus": 2}}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "parameters.bogus"
    assert "'bogus'" in response.json()["detail"]


def test_missing_required_parameter_is_422_naming_it(client, register):
    flow = register(client)
    response = client.post("/flow_runs", json={"flow_id": flow["id"]})
    assert response.status_code == 422
    assert response.json()["field"] == "parameters.who"


def test_create_by_flow_name_uses_newest_version(client, register):
    register(client)
    newest = register(client, labels=["x"])
    response = client.post("/flow_runs", json={"flow_name": "etl", "parameters": {"who": 1}})
    assert response.json()["flow_id"] == newest["id"]


def test_idempotency_key_returns_the_same_run(client, register, create_run):
    flow = register(client)
    first = create_run(client, flow["id"], idempotency_key="k1")
    response = client.post(
        "/flow_runs",
        json={"flow_id": flow["id"], "parameters": {"who": 2}, "idempotency_key": "k1"},
    )
    assert response.status_code == 200
    assert response.json()["id"] == first["id"]


def test_an_idempotency_key_names_one_run_of_the_flow_across_its_versions(
    client, register, create_run
):
    # A backfill run again, or a client retrying, after the flow was registered anew
    # must find the run it made, not make a second one.
    first = create_run(client, register(client)["id"], idempotency_key="daily-2026-12-01")
    newer = register(client, labels=["x"])
    assert newer["version"] == 2
    again = client.post(
        "/flow_runs", json={"flow_name": "etl", "idempotency_key": "daily-2026-12-01"}
    )
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert (again.json()["flow_id"], again.json()["flow_version"]) == (first["flow_id"], 1)
    other = client.post(
        "/flow_runs", json={"flow_name": "etl", "idempotency_key": "k2", "parameters": {"who": 1}}
    )
    assert other.status_code == 201 and other.json()["flow_id"] == newer["id"]
    register(client, name="another")
    elsewhere = client.post(
        "/flow_runs",
        json={
            "flow_name": "another",
            "idempotency_key": "daily-2026-12-01",
            "parameters": {"who": 1},
        },
    )
    assert elsewhere.status_code == 201  # a key is the flow's own


def test_state_write_with_stale_version_is_409_and_changes_nothing(client, register, create_run):
    run = create_run(client, register(client)["id"])
    ok = client.post(
        f"/flow_runs/{run['id']}/state", json={"state": {"type": "Running"}, "version": 1}
    )
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    stale = client.post(
        f"/flow_runs/{run['id']}/state", json={"state": {"type": "Failed"}, "version": 1}
    )
    assert stale.status_code == 409
    assert "version" in stale.json()["detail"]
    assert client.get(f"/flow_runs/{run['id']}").json()["state"]["type"] == "Running"


def test_forbidden_transition_is_409_naming_the_move(client, register, create_run):
    run = create_run(client, register(client)["id"])
    client.post(f"/flow_runs/{run['id']}/state", json={"state": {"type": "Success"}, "version": 1})
    response = client.post(
        f"/flow_runs/{run['id']}/state", json={"state": {"type": "Running"}, "version": 2}
    )
    assert response.status_code == 409
    assert "Success to Running" in response.json()["detail"]
    assert response.json()["field"] == "state.type"


def test_state_history_is_kept_in_order(client, register, create_run):
    run = create_run(client, register(client)["id"])
    for version, kind in enumerate(["Running", "Success"], start=1):
        client.post(
            f"/flow_runs/{run['id']}/state",
            json={"state": {"type": kind, "message": kind.lower()}, "version": version},
        )
    history = client.get(f"/flow_runs/{run['id']}/states").json()
    assert [(h["version"], h["state"]["type"]) for h in history] == [
        (1, "Scheduled"),
        (2, "Running"),
        (3, "Success"),
    ]
    run = client.get(f"/flow_runs/{run['id']}").json()
    assert run["started_at"] is not None and run["ended_at"] is not None


def test_list_filters_by_flow_state_and_time_with_pages(client, register, create_run):
    a = register(client, "a")
    b = register(client, "b")
    runs = [create_run(client, a["id"], scheduled_start_time=1000.0 + i) for i in range(5)]
    create_run(client, b["id"])
    client.post(
        f"/flow_runs/{runs[0]['id']}/state", json={"state": {"type": "Running"}, "version": 1}
    )
    assert len(client.get("/flow_runs", params={"flow_id": a["id"]}).json()) == 5
    assert len(client.get("/flow_runs", params={"flow_name": "b"}).json()) == 1
    running = client.get("/flow_runs", params={"state": "Running"}).json()
    assert [r["id"] for r in running] == [runs[0]["id"]]
    assert client.get("/flow_runs", params={"state": "running"}).json() == running  # any case
    window = client.get("/flow_runs", params={"start_after": 1001, "start_before": 1003}).json()
    assert len(window) == 3
    page1 = client.get("/flow_runs", params={"limit": 4, "newest_first": False}).json()
    page2 = client.get("/flow_runs", params={"limit": 4, "offset": 4, "newest_first": False}).json()
    assert len(page1) == 4 and len(page2) == 2
    assert not {r["id"] for r in page1} & {r["id"] for r in page2}


def test_cancel_waiting_run_cancels_it_at_once(client, register, create_run):
    run = create_run(client, register(client)["id"])
    cancelled = client.post(f"/flow_runs/{run['id']}/cancel").json()
    assert cancelled["state"]["type"] == "Cancelled"
    assert client.post(f"/flow_runs/{run['id']}/cancel").status_code == 409


def test_cancel_running_run_reaches_it_through_heartbeat(client, register, create_run):
    run = create_run(client, register(client)["id"])
    client.post(f"/flow_runs/{run['id']}/state", json={"state": {"type": "Running"}, "version": 1})
    assert client.post(f"/flow_runs/{run['id']}/heartbeat").json() == {"cancel": False}
    assert client.post(f"/flow_runs/{run['id']}/cancel").json()["state"]["type"] == "Cancelling"
    assert client.post(f"/flow_runs/{run['id']}/heartbeat").json() == {"cancel": True}
    kinds = [e["kind"] for e in client.get(f"/flow_runs/{run['id']}/trace").json()]
    assert kinds == ["created", "cancel_requested"]


def test_trace_batch_and_read_in_time_order(client, register, create_run):
    run = create_run(client, register(client)["id"])
    events = [
        {
            "flow_run_id": run["id"],
            "kind": "task_started",
            "timestamp": 3e9,
            "task_slug": "a",
            "map_index": -1,
            "data": {"x": 1},
        },
        {"flow_run_id": run["id"], "kind": "flow_loaded", "timestamp": 2e9, "data": {}},
    ]
    assert client.post("/trace/batch", json=events).json() == {"count": 2}
    kinds = [e["kind"] for e in client.get(f"/flow_runs/{run['id']}/trace").json()]
    assert kinds == ["created", "flow_loaded", "task_started"]


def test_a_run_read_with_its_flow_has_the_flows_summary(client, register, create_run):
    flow = register(client)
    run = create_run(client, flow["id"])
    plain = client.get(f"/flow_runs/{run['id']}").json()
    both = client.get(f"/flow_runs/{run['id']}", params={"with_flow": "true"}).json()
    # What a run's process reads to start, in one request: the run as ever, and its flow
    # as GET /flows/{id}?full=false gives it.
    assert "flow" not in plain
    assert both.pop("flow") == client.get(f"/flows/{flow['id']}?full=false").json()
    assert both == plain


def test_unknown_run_is_404_everywhere(client):
    missing = "00000000-0000-0000-0000-000000000001"
    assert client.get(f"/flow_runs/{missing}").status_code == 404
    assert client.get(f"/flow_runs/{missing}", params={"with_flow": "true"}).status_code == 404
    assert client.post(f"/flow_runs/{missing}/heartbeat").status_code == 404
    assert client.post(f"/flow_runs/{missing}/cancel").status_code == 404
    assert client.get(f"/flow_runs/{missing}/logs").status_code == 404
    assert (
        client.post(
            f"/flow_runs/{missing}/state", json={"state": {"type": "Running"}, "version": 1}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/logs/batch", json=[{"flow_run_id": missing, "timestamp": 1, "message": "m"}]
        ).status_code
        == 404
    )


def test_list_finds_runs_by_id_prefix_and_by_name(client, register, create_run):
    flow = register(client)
    runs = [create_run(client, flow["id"], name=f"nightly-{i}") for i in range(3)]
    target = runs[1]
    hex_id = target["id"].replace("-", "")
    for prefix in (hex_id[:8], hex_id[:8].upper(), target["id"][:13], hex_id):
        found = client.get("/flow_runs", params={"id_prefix": prefix}).json()
        assert [r["id"] for r in found] == [target["id"]], prefix
    named = client.get("/flow_runs", params={"name": "nightly-2"}).json()
    assert [r["id"] for r in named] == [runs[2]["id"]]
    assert client.get("/flow_runs", params={"name": "nightly-9"}).json() == []
    bad = client.get("/flow_runs", params={"id_prefix": "zz%"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "id_prefix"]


def test_a_run_asked_for_by_flow_id_and_flow_name_at_once_is_a_422(client, register):
    flow = register(client)
    register(client, name="other")
    both = client.post(
        "/flow_runs", json={"flow_id": flow["id"], "flow_name": "other", "parameters": {"who": 1}}
    )
    assert both.status_code == 422 and "not both" in both.text
    elsewhere = client.post(
        "/flow_runs", json={"flow_id": flow["id"], "project": "other", "parameters": {"who": 1}}
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["field"] == "project"
    assert client.get("/flow_runs").json() == []
    same = client.post(
        "/flow_runs", json={"flow_id": flow["id"], "project": "default", "parameters": {"who": 1}}
    )
    assert same.status_code == 201
