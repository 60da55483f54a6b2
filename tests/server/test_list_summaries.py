"""List endpoints answer summaries: no run parameters or context, no flow graphs, unless asked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from weir.schedules import IntervalClock, Schedule

MB = 1_000_000


def _big_flow(serialized_flow: Any, name: str = "big", tasks: int = 20_000, **extra: Any) -> Any:
    """A flow whose graph is megabytes: many tasks, as a large flow registers."""
    flow = serialized_flow(name, **extra)
    template = flow["tasks"][0]
    flow["tasks"] = [dict(template, slug=f"t-{i}", name=f"t{i}") for i in range(tasks)]
    flow["edges"] = []
    flow["reference_tasks"] = []
    return flow


def test_run_list_leaves_out_parameters_and_context(client, register, create_run):
    flow = register(client)
    big = "x" * MB
    run = create_run(client, flow["id"], parameters={"who": big}, context={"note": big})
    response = client.get("/flow_runs")
    assert response.status_code == 200
    assert len(response.content) < 10_000
    [listed] = response.json()
    assert listed["id"] == run["id"]
    assert "parameters" not in listed and "context" not in listed
    assert listed["state"]["type"] == "Scheduled"


def test_run_list_with_full_has_parameters_and_context(client, register, create_run):
    flow = register(client)
    run = create_run(client, flow["id"], context={"k": "v"})
    [listed] = client.get("/flow_runs", params={"full": True}).json()
    assert listed["parameters"] == {"n": 3, "who": "me"}
    assert listed["context"] == {"k": "v"}
    one = client.get(f"/flow_runs/{run['id']}").json()
    assert one["parameters"] == {"n": 3, "who": "me"} and one["context"] == {"k": "v"}


@pytest.mark.slow
def test_flow_list_leaves_out_the_graph(client, serialized_flow):
    graph = _big_flow(serialized_flow)
    registered = client.post("/flows", json={"serialized_flow": graph})
    assert registered.status_code == 201
    assert len(registered.content) > MB  # the registration answers the whole version
    response = client.get("/flows")
    assert response.status_code == 200
    assert len(response.content) < 10_000
    [listed] = response.json()
    assert "serialized_flow" not in listed
    assert listed["name"] == "big" and listed["has_schedule"] is False
    full = client.get("/flows", params={"full": True}).json()
    assert len(full[0]["serialized_flow"]["tasks"]) == 20_000
    one = client.get(f"/flows/{listed['id']}").json()
    assert len(one["serialized_flow"]["tasks"]) == 20_000


def test_flow_list_says_which_flows_have_a_schedule(client, register, serialized_flow):
    schedule = Schedule([IntervalClock(dt.timedelta(hours=1))]).serialize()
    graph = serialized_flow("timed", schedule=schedule, parameters=[])
    assert client.post("/flows", json={"serialized_flow": graph}).status_code == 201
    register(client, "plain")  # "schedule": null
    bare = serialized_flow("bare")
    del bare["schedule"]
    client.post("/flows", json={"serialized_flow": bare})
    listed = {f["name"]: f["has_schedule"] for f in client.get("/flows").json()}
    assert listed == {"timed": True, "plain": False, "bare": False}
    full = {f["name"]: f["has_schedule"] for f in client.get("/flows?full=true").json()}
    assert full == listed


def test_ui_flows_overview_counts_tasks_without_the_graph(client, serialized_flow):
    client.post("/flows", json={"serialized_flow": _big_flow(serialized_flow, tasks=5_000)})
    odd = serialized_flow("odd")
    odd["tasks"] = {"not": "a list"}  # the API takes any JSON graph; the count must not fail
    assert client.post("/flows", json={"serialized_flow": odd}).status_code == 201
    response = client.get("/ui/flows")
    assert response.status_code == 200, response.text
    assert len(response.content) < 10_000
    tasks = {f["name"]: f["tasks"] for f in response.json()}
    assert tasks == {"big": 5_000, "odd": 0}


def test_dashboard_run_lists_leave_out_parameters(client, register, create_run):
    flow = register(client)
    create_run(client, flow["id"], parameters={"who": "x" * MB}, scheduled_start_time=1.0)
    response = client.get("/ui/dashboard")
    assert response.status_code == 200
    assert len(response.content) < 20_000
    [late] = response.json()["late"]
    assert "parameters" not in late
