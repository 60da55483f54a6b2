from __future__ import annotations


def test_register_creates_version_one_in_default_project(client, register):
    flow = register(client)
    assert flow["version"] == 1
    assert flow["project"] == "default"
    assert flow["version_group"] == "default/etl"


def test_register_unchanged_flow_adds_no_version(client, register, serialized_flow):
    first = register(client)
    response = client.post("/flows", json={"serialized_flow": serialized_flow()})
    assert response.status_code == 200
    assert response.json() == {"flow": first, "created": False}


def test_changed_flow_gets_next_version_and_archives_the_old(client, register):
    first = register(client)
    second = register(client, storage={"type": "Local", "path": "/x.py"})
    assert second["version"] == 2
    assert client.get(f"/flows/{first['id']}").json()["archived"] is True
    listed = client.get("/flows").json()
    assert [f["id"] for f in listed] == [second["id"]]
    assert len(client.get("/flows", params={"include_archived": True}).json()) == 2


def test_version_groups_are_per_project(client, register):
    register(client)
    other = register(client, project="other")
    assert other["version"] == 1
    assert {p["name"] for p in client.get("/projects").json()} == {"default", "other"}


def test_archive_and_schedule_toggle(client, register):
    flow = register(client)
    patched = client.patch(f"/flows/{flow['id']}", json={"schedule_active": False}).json()
    assert patched["schedule_active"] is False
    archived = client.patch(f"/flows/{flow['id']}", json={"archived": True}).json()
    assert archived["archived"] is True


def test_an_archived_version_takes_no_new_run_as_in_prefect_1(client, register):
    first = register(client)
    second = register(client, storage={"type": "Local", "path": "/x.py"})
    # The old version, by id: refused, saying a newer version may be there.
    who = {"parameters": {"who": "me"}}
    refused = client.post("/flow_runs", json={"flow_id": first["id"], **who})
    assert refused.status_code == 409
    assert refused.json()["field"] == "flow_id"
    assert "is archived (a newer version may be registered)" in refused.json()["detail"]
    # By name, the current version runs; once it is archived too, nothing does.
    name = second["name"]
    created = client.post("/flow_runs", json={"flow_name": name, **who})
    assert created.status_code == 201, created.text
    client.patch(f"/flows/{second['id']}", json={"archived": True})
    refused = client.post("/flow_runs", json={"flow_name": name, **who})
    assert refused.status_code == 409
    assert refused.json()["field"] == "flow_name"
    assert client.get("/flow_runs").json()[0]["flow_id"] == second["id"]  # nothing added


def test_register_without_name_is_422_naming_it(client):
    response = client.post("/flows", json={"serialized_flow": {"tasks": []}})
    assert response.status_code == 422
    assert "serialized_flow.name" in response.text


def test_unknown_flow_is_404(client):
    response = client.get("/flows/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert "no flow" in response.json()["detail"]


def test_a_flow_read_without_its_graph_is_its_summary(client, register, serialized_flow):
    flow = register(client)
    summary = client.get(f"/flows/{flow['id']}", params={"full": "false"}).json()
    assert "serialized_flow" not in summary
    assert summary == {k: v for k, v in flow.items() if k != "serialized_flow"}
    assert summary["has_schedule"] is False
    scheduled = serialized_flow("nightly", schedule={"clocks": []}, parameters=[])
    body = client.post("/flows", json={"serialized_flow": scheduled}).json()["flow"]
    assert client.get(f"/flows/{body['id']}", params={"full": False}).json()["has_schedule"]
    unknown = client.get("/flows/00000000-0000-0000-0000-000000000000", params={"full": False})
    assert unknown.status_code == 404


def test_bad_uuid_is_422(client):
    assert client.get("/flows/not-a-uuid").status_code == 422


def test_concurrent_registrations_of_one_flow_make_one_version(db, serialized_flow):
    import threading

    from weir.schemas import actions
    from weir.server.models import flows

    results = []

    def register_once() -> None:
        with db.session(write=True) as session:
            flow, created = flows.register(
                session, actions.FlowCreate(serialized_flow=serialized_flow("race"), project="p")
            )
            results.append((flow.version, created))

    threads = [threading.Thread(target=register_once) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [(1, False), (1, False), (1, False), (1, True)]


def test_unarchiving_an_old_version_rolls_back_to_it(client, register):
    # One live version per flow: two would both be scheduled (each time run twice).
    first = register(client)
    second = register(client, storage={"type": "Local", "path": "/x.py"})
    restored = client.patch(f"/flows/{first['id']}", json={"archived": False}).json()
    assert restored["archived"] is False
    assert client.get(f"/flows/{second['id']}").json()["archived"] is True
    assert [f["id"] for f in client.get("/flows").json()] == [first["id"]]
    created = client.post("/flow_runs", json={"flow_name": "etl", "parameters": {"who": 1}})
    assert created.json()["flow_id"] == first["id"]
    # Registering the rolled-back version's flow again rolls forward to it: no new version.
    again = register(client, storage={"type": "Local", "path": "/x.py"})
    assert (again["id"], again["version"], again["archived"]) == (second["id"], 2, False)
    assert client.get(f"/flows/{first['id']}").json()["archived"] is True
    # And the live version's flow registered again is unchanged.
    assert register(client, storage={"type": "Local", "path": "/x.py"})["id"] == second["id"]
