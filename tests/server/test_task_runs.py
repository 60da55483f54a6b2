from __future__ import annotations


def _item(run_id, slug, kind, map_index=-1, **extra):
    return {
        "flow_run_id": run_id,
        "task_slug": slug,
        "map_index": map_index,
        "state": {"type": kind, **extra.pop("state", {})},
        **extra,
    }


def test_batch_creates_task_runs_on_first_sight_with_history(client, register, create_run):
    run = create_run(client, register(client)["id"])
    items = [
        _item(run["id"], "extract-1", "Running"),
        _item(run["id"], "extract-1", "Success", state={"location": "/r/1"}),
        _item(run["id"], "load-1", "Running", map_index=0),
    ]
    written = client.post("/task_runs/batch", json=items).json()
    assert [w["accepted"] for w in written] == [True, True, True]
    assert [w["version"] for w in written] == [1, 2, 1]
    task_runs = client.get(f"/flow_runs/{run['id']}/task_runs").json()
    extract = next(t for t in task_runs if t["task_slug"] == "extract-1")
    assert extract["state"]["type"] == "Success"
    assert extract["state"]["location"] == "/r/1"
    history = client.get(f"/task_runs/{extract['id']}/states").json()
    assert [h["state"]["type"] for h in history] == ["Running", "Success"]


def test_batch_refuses_stale_and_forbidden_items_one_by_one(client, register, create_run):
    run = create_run(client, register(client)["id"])
    client.post("/task_runs/batch", json=[_item(run["id"], "a", "Success")])
    written = client.post(
        "/task_runs/batch",
        json=[
            _item(run["id"], "a", "Running"),
            _item(run["id"], "b", "Running", version=5),
            _item(run["id"], "c", "Running", version=0),
            _item("00000000-0000-0000-0000-000000000009", "d", "Running"),
        ],
    ).json()
    assert [w["accepted"] for w in written] == [False, False, True, False]
    assert "Success to Running" in written[0]["reason"]
    assert "version" in written[1]["reason"]
    slugs = {t["task_slug"] for t in client.get(f"/flow_runs/{run['id']}/task_runs").json()}
    assert slugs == {"a", "c"}


def test_single_task_run_state_write_checks_version(client, register, create_run):
    run = create_run(client, register(client)["id"])
    [w] = client.post("/task_runs/batch", json=[_item(run["id"], "a", "Running")]).json()
    stale = client.post(
        f"/task_runs/{w['task_run_id']}/state", json={"state": {"type": "Success"}, "version": 7}
    )
    assert stale.status_code == 409
    ok = client.post(
        f"/task_runs/{w['task_run_id']}/state", json={"state": {"type": "Success"}, "version": 1}
    )
    assert ok.json()["version"] == 2


def test_many_mapped_children_in_one_batch(client, register, create_run):
    run = create_run(client, register(client)["id"])
    items = [_item(run["id"], "load-1", "Success", map_index=i) for i in range(1500)]
    written = client.post("/task_runs/batch", json=items).json()
    assert all(w["accepted"] for w in written)
    assert (
        len(client.get(f"/flow_runs/{run['id']}/task_runs", params={"limit": 5000}).json()) == 1500
    )


def test_logs_by_flow_run_and_task_run_with_cursor(client, register, create_run):
    run = create_run(client, register(client)["id"])
    [w] = client.post("/task_runs/batch", json=[_item(run["id"], "a", "Running")]).json()
    logs = [
        {
            "flow_run_id": run["id"],
            "timestamp": 1.0 + i,
            "level": 20,
            "name": "weir",
            "message": f"line {i}",
        }
        for i in range(5)
    ]
    logs[1]["task_slug"] = "a"
    logs[2]["task_run_id"] = w["task_run_id"]
    logs[3].update(task_slug="later", map_index=2)  # its task run does not exist yet
    assert client.post("/logs/batch", json=logs).json() == {"count": 5}
    page = client.get(f"/flow_runs/{run['id']}/logs", params={"limit": 2}).json()
    assert [entry["message"] for entry in page["logs"]] == ["line 0", "line 1"]
    rest = client.get(
        f"/flow_runs/{run['id']}/logs", params={"after_id": page["next_after_id"]}
    ).json()
    assert [entry["message"] for entry in rest["logs"]] == ["line 2", "line 3", "line 4"]
    of_task = client.get(
        f"/flow_runs/{run['id']}/logs", params={"task_run_id": w["task_run_id"]}
    ).json()
    assert [entry["message"] for entry in of_task["logs"]] == ["line 1", "line 2"]
    [later] = client.post(
        "/task_runs/batch", json=[_item(run["id"], "later", "Running", map_index=2)]
    ).json()
    of_later = client.get(
        f"/flow_runs/{run['id']}/logs", params={"task_run_id": later["task_run_id"]}
    ).json()
    assert [entry["message"] for entry in of_later["logs"]] == ["line 3"]


def test_agents_register_heartbeat_list(client):
    agent = client.post("/agents", json={"name": "a1", "labels": ["x", "y"]}).json()
    assert agent["labels"] == ["x", "y"]
    assert client.post(f"/agents/{agent['id']}/heartbeat").status_code == 200
    assert [a["id"] for a in client.get("/agents").json()] == [agent["id"]]


def test_an_agent_heartbeat_naming_its_live_runs_heartbeats_them(client, register, create_run):
    agent = client.post("/agents", json={"name": "a1"}).json()
    run = create_run(client, register(client)["id"])
    [claimed] = client.post("/work/claim", json={"agent_id": agent["id"]}).json()
    assert claimed["id"] == run["id"] and claimed["heartbeat"] is None
    body = {"runs": [{"id": run["id"], "attempt": claimed["attempt"]}]}
    assert client.post(f"/agents/{agent['id']}/heartbeat", json=body).status_code == 200
    assert client.get(f"/flow_runs/{run['id']}").json()["heartbeat"] is not None
    bad = client.post(f"/agents/{agent['id']}/heartbeat", json={"runs": [{"id": "x"}]})
    assert bad.status_code == 422 and "runs" in bad.text


def test_task_run_ids_match_the_ones_the_engine_derives(client, register, create_run):
    from weir.context import FlowContext, TaskContext

    run = create_run(client, register(client)["id"])
    written = client.post(
        "/task_runs/batch",
        json=[
            _item(run["id"], "load-1", "Running"),
            _item(run["id"], "load-1", "Running", map_index=3),
        ],
    ).json()
    flow_ctx = FlowContext(flow_run_id=run["id"])
    for item, map_index in zip(written, (None, 3), strict=True):
        ctx = TaskContext(flow_ctx, "load", "load-1", map_index=map_index)
        assert item["task_run_id"] == ctx.task_run_id


def test_later_batches_update_existing_task_runs(client, register, create_run):
    run = create_run(client, register(client)["id"])
    first = [_item(run["id"], "t", "Running", map_index=i) for i in range(50)]
    second = [
        _item(
            run["id"],
            "t",
            "Success",
            map_index=i,
            state={"message": f"done {i}", "location": f"/r/{i}", "run_count": 1},
        )
        for i in range(50)
    ]
    assert all(w["accepted"] for w in client.post("/task_runs/batch", json=first).json())
    written = client.post("/task_runs/batch", json=second).json()
    assert [w["version"] for w in written] == [2] * 50
    task_runs = client.get(f"/flow_runs/{run['id']}/task_runs").json()
    by_index = {t["map_index"]: t for t in task_runs}
    assert by_index[7]["state"]["type"] == "Success"
    assert by_index[7]["state"]["message"] == "done 7"
    assert by_index[7]["state"]["location"] == "/r/7"
    assert by_index[7]["state"]["run_count"] == 1
    assert by_index[7]["version"] == 2
    history = client.get(f"/task_runs/{by_index[7]['id']}/states").json()
    assert [h["state"]["type"] for h in history] == ["Running", "Success"]


def _states_item(run_id, slug, kinds, map_index=-1, **extra):
    return {
        "flow_run_id": run_id,
        "task_slug": slug,
        "map_index": map_index,
        "states": [{"type": k, "timestamp": 1e9 + i} for i, k in enumerate(kinds)],
        **extra,
    }


def test_an_item_may_carry_several_states_written_as_one_task_run(client, register, create_run):
    run = create_run(client, register(client)["id"])
    item = _states_item(run["id"], "t-1", ["Running", "Success"], submitted=1e9 - 0.5)
    [written] = client.post("/task_runs/batch", json=[item]).json()
    assert (written["accepted"], written["version"], written["state_type"]) == (
        True,
        2,
        "Success",
    )
    history = client.get(f"/task_runs/{written['task_run_id']}/states").json()
    assert [(h["version"], h["state"]["type"]) for h in history] == [
        (1, "Running"),
        (2, "Success"),
    ]
    # A retry reported later: two more states, its own submission time.
    again = _states_item(run["id"], "t-1", ["Running", "Success"], version=2)
    [second] = client.post("/task_runs/batch", json=[again]).json()
    assert second["accepted"] is False  # Success is final: the whole item is refused
    assert "Success to Running" in second["reason"]
    assert len(client.get(f"/task_runs/{written['task_run_id']}/states").json()) == 2


def test_an_item_with_a_forbidden_move_inside_changes_nothing(client, register, create_run):
    run = create_run(client, register(client)["id"])
    bad = _states_item(run["id"], "t-1", ["Running", "Success", "Running"])
    [written] = client.post("/task_runs/batch", json=[bad]).json()
    assert written["accepted"] is False
    assert "cannot move from Success to Running" in written["reason"]
    assert client.get(f"/flow_runs/{run['id']}/task_runs").json() == []


def test_state_and_states_together_is_a_422_naming_them(client, register, create_run):
    run = create_run(client, register(client)["id"])
    both = {**_states_item(run["id"], "t", ["Running"]), "state": {"type": "Running"}}
    neither = {"flow_run_id": run["id"], "task_slug": "t"}
    for item in (both, neither):
        response = client.post("/task_runs/batch", json=[item])
        assert response.status_code == 422
        assert "state" in response.text and "states" in response.text
    assert client.get(f"/flow_runs/{run['id']}/task_runs").json() == []


def test_trace_reads_task_events_off_the_task_run_histories(client, register, create_run):
    run = create_run(client, register(client)["id"])
    items = [
        _states_item(run["id"], "t-1", ["Running", "Retrying"], submitted=1e9 - 0.5),
        _states_item(run["id"], "t-1", ["Running", "Failed"], submitted=1e9 + 5),
        _states_item(run["id"], "m-1", ["Success"], map_index=0),
    ]
    items[2]["states"][0]["timestamp"] = 1e9 + 2
    items[1]["states"] = [
        {"type": "Running", "timestamp": 1e9 + 6},
        {"type": "Failed", "timestamp": 1e9 + 7},
    ]
    assert all(w["accepted"] for w in client.post("/task_runs/batch", json=items).json())
    trace = [
        (e["kind"], e["task_slug"], e["map_index"], e["timestamp"], e["data"])
        for e in client.get(f"/flow_runs/{run['id']}/trace").json()
        if e["task_slug"] is not None
    ]
    assert trace == [
        ("task_submitted", "t-1", None, 1e9 - 0.5, {}),
        ("task_started", "t-1", None, 1e9, {}),
        ("task_finished", "m-1", 0, 1e9 + 2, {"state": "Success"}),
        ("task_submitted", "t-1", None, 1e9 + 5, {}),
        ("task_started", "t-1", None, 1e9 + 6, {}),
        ("task_finished", "t-1", None, 1e9 + 7, {"state": "Failed"}),
    ]


def test_task_run_ids_are_the_ones_the_engine_derives(client, register, create_run):
    # The engine names a task run before the server has seen it (weir.context): uuid5 of
    # "<flow run>/<slug>/<map index or nothing>"; the server must give the same id.
    import uuid

    from weir.context import _TASK_RUN_NAMESPACE

    run = create_run(client, register(client)["id"])
    cases = [("extract-1", -1), ("load-1", 0), ("load-1", 12), ("naïve ✓", 3)]
    written = client.post(
        "/task_runs/batch", json=[_item(run["id"], s, "Running", map_index=i) for s, i in cases]
    ).json()
    for (slug, index), w in zip(cases, written, strict=True):
        name = f"{run['id']}/{slug}/{'' if index < 0 else index}"
        assert w["task_run_id"] == str(uuid.uuid5(_TASK_RUN_NAMESPACE, name))


def test_a_later_batch_updates_a_task_run_but_keeps_when_it_was_created(
    make_client, register, create_run
):
    now = [1_800_000_000.0]
    client = make_client(clock=lambda: now[0])
    run = create_run(client, register(client)["id"])
    client.post("/task_runs/batch", json=[_item(run["id"], "a", "Running", map_index=3)])
    now[0] += 60
    [written] = client.post(
        "/task_runs/batch", json=[_item(run["id"], "a", "Success", map_index=3)]
    ).json()
    assert written["accepted"] and written["version"] == 2
    [task_run] = client.get(f"/flow_runs/{run['id']}/task_runs").json()
    assert (task_run["task_slug"], task_run["map_index"]) == ("a", 3)
    assert task_run["created"] == 1_800_000_000.0
    assert task_run["updated"] == 1_800_000_060.0
    assert task_run["state"]["type"] == "Success"


def test_a_batch_touches_only_the_task_runs_it_names(client, register, create_run):
    # The stored task runs are looked up by slugs and map indexes together: a stored
    # pair made of one item's slug and another's index must not be taken for either.
    run = create_run(client, register(client)["id"])
    stored = [_item(run["id"], "a", "Running", map_index=2), _item(run["id"], "b", "Running", 1)]
    client.post("/task_runs/batch", json=stored)
    named = [_item(run["id"], "a", "Success", map_index=1), _item(run["id"], "b", "Success", 2)]
    written = client.post("/task_runs/batch", json=named).json()
    assert [(w["accepted"], w["version"]) for w in written] == [(True, 1), (True, 1)]
    task_runs = client.get(f"/flow_runs/{run['id']}/task_runs").json()
    states = {(t["task_slug"], t["map_index"]): t["state"]["type"] for t in task_runs}
    assert states == {
        ("a", 2): "Running",
        ("b", 1): "Running",
        ("a", 1): "Success",
        ("b", 2): "Success",
    }


def test_a_batch_sent_again_is_accepted_and_changes_nothing(client, register, create_run):
    run = create_run(client, register(client)["id"])
    states = [{"type": "Running", "timestamp": 1e9}, {"type": "Success", "timestamp": 1e9 + 1}]
    batch = [{"flow_run_id": run["id"], "task_slug": "a", "states": states}]
    [first] = client.post("/task_runs/batch", json=batch).json()
    [again] = client.post("/task_runs/batch", json=batch).json()
    assert (again["accepted"], again["version"], again["task_run_id"]) == (
        True,
        2,
        first["task_run_id"],
    )
    history = client.get(f"/task_runs/{first['task_run_id']}/states").json()
    assert [h["state"]["type"] for h in history] == ["Running", "Success"]
    # The same types at other times are new states: a second Running run is applied.
    later = [{"flow_run_id": run["id"], "task_slug": "b", "state": {"type": "Running"}}]
    client.post("/task_runs/batch", json=later)
    [b] = client.post("/task_runs/batch", json=later).json()
    assert b["version"] == 2


def test_a_mapped_parent_may_be_summed_up_again_but_stays_mapped(client, register, create_run):
    # A later attempt that ran the children an earlier one left reports the parent again.
    run = create_run(client, register(client)["id"])
    first = _item(run["id"], "t-1", "Mapped", state={"message": "3 of 4 succeeded"})
    again = _item(run["id"], "t-1", "Mapped", state={"message": "4 of 4 succeeded"})
    running = _item(run["id"], "t-1", "Running")
    written = [client.post("/task_runs/batch", json=[i]).json()[0] for i in (first, again, running)]
    assert [w["accepted"] for w in written] == [True, True, False]
    assert "cannot move from Mapped to Running" in written[2]["reason"]
    history = client.get(f"/task_runs/{written[0]['task_run_id']}/states").json()
    assert [h["state"]["message"] for h in history] == ["3 of 4 succeeded", "4 of 4 succeeded"]


def test_a_single_state_write_stamps_the_task_run_by_the_servers_clock(
    make_client, register, create_run
):
    # The UI asks what changed since its last look by ``updated``: a state written on its
    # own must move it as a batch does, by the same clock.
    from .conftest import Clock

    clock = Clock()
    client = make_client(clock=clock)
    run = create_run(client, register(client)["id"])
    [w] = client.post("/task_runs/batch", json=[_item(run["id"], "a", "Running")]).json()
    clock.now += 3600
    written = client.post(
        f"/task_runs/{w['task_run_id']}/state", json={"state": {"type": "Success"}, "version": 1}
    ).json()
    assert written["updated"] == clock.now
    assert written["created"] == clock.now - 3600


def test_a_task_run_that_runs_again_after_it_finished_counts_its_time_from_then(
    make_client, register, create_run
):
    # A flow run restarted an hour after a task failed runs the task again: its
    # duration is the new run's, not the hour between. Retries and loops in one run
    # keep the run's start.
    from .conftest import Clock

    clock = Clock()
    client = make_client(clock=clock)
    run = create_run(client, register(client)["id"])
    t0 = clock.now

    def send(slug, *moves):
        states = [{"type": kind, "timestamp": t0 + at} for kind, at in moves]
        item = {"flow_run_id": run["id"], "task_slug": slug, "map_index": -1, "states": states}
        [written] = client.post("/task_runs/batch", json=[item]).json()
        assert written["accepted"], written
        return written["task_run_id"]

    rerun = send("rerun", ("Running", 1), ("Failed", 2))
    send("rerun", ("Pending", 3600), ("Running", 3601), ("Success", 3603))
    retried = send("retried", ("Running", 1), ("Retrying", 3))  # as the engine reports one
    send("retried", ("Running", 13), ("Success", 15))
    looped = send("looped", ("Running", 1), ("Looped", 2), ("Running", 2), ("Success", 4))
    rows = client.get(f"/ui/flow_runs/{run['id']}/task_runs", params={"sort": "duration"})
    by_id = {row["id"]: row for row in rows.json()["rows"]}
    assert by_id[rerun]["started_at"] == t0 + 3601
    assert by_id[retried]["started_at"] == by_id[looped]["started_at"] == t0 + 1
    assert [(row["slug"], row["duration"]) for row in rows.json()["rows"]] == [
        ("rerun", 2),
        ("looped", 3),
        ("retried", 14),
    ]
