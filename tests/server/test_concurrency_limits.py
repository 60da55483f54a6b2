"""Concurrency limits on task tags: set/list/remove, all-or-nothing slots, never above N."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from weir.cli.main import cli
from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer


def _running_run(client: Any, register: Any, create_run: Any) -> str:
    """A run claimed and Running, so that the slots it takes count."""
    run = create_run(client, register(client)["id"])
    [claimed] = client.post("/work/claim", json={}).json()
    body = {"state": {"type": "Running"}, "version": claimed["version"]}
    assert client.post(f"/flow_runs/{run['id']}/state", json=body).status_code == 200
    return str(run["id"])


def _acquire(client: Any, run_id: str, key: str, *tags: str) -> dict[str, Any]:
    body = {"tags": list(tags), "task_run_key": key, "flow_run_id": run_id}
    response = client.post("/concurrency_limits/acquire", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_set_list_read_and_remove_a_limit(client):
    assert client.put("/concurrency_limits/db", json={"limit": 2}).json()["limit"] == 2
    assert client.put("/concurrency_limits/db", json={"limit": 3}).json()["limit"] == 3
    client.put("/concurrency_limits/api", json={"limit": 0})
    listed = client.get("/concurrency_limits").json()
    assert [(r["tag"], r["limit"], r["active_slots"]) for r in listed] == [
        ("api", 0, 0),
        ("db", 3, 0),
    ]
    assert client.get("/concurrency_limits/db").json()["limit"] == 3
    assert client.delete("/concurrency_limits/db").json()["tag"] == "db"
    missing = client.delete("/concurrency_limits/db")
    assert missing.status_code == 404
    assert "weir concurrency-limit set db" in missing.json()["detail"]


def test_a_limit_is_a_count_of_zero_or_more(client):
    response = client.put("/concurrency_limits/db", json={"limit": -1})
    assert response.status_code == 422


def test_slots_are_granted_up_to_the_limit_and_given_back(client, register, create_run):
    run = _running_run(client, register, create_run)
    client.put("/concurrency_limits/db", json={"limit": 2})
    assert _acquire(client, run, "a", "db")["granted"]
    assert _acquire(client, run, "b", "db")["granted"]
    assert _acquire(client, run, "c", "db") == {"granted": False, "blocked": ["db"]}
    assert client.get("/concurrency_limits/db").json()["active_slots"] == 2
    released = client.post("/concurrency_limits/release", json={"task_run_key": "a"})
    assert released.json() == {"count": 1}
    assert _acquire(client, run, "c", "db")["granted"]


def test_acquiring_again_with_the_same_key_takes_no_second_slot(client, register, create_run):
    run = _running_run(client, register, create_run)
    client.put("/concurrency_limits/db", json={"limit": 1})
    assert _acquire(client, run, "a", "db")["granted"]
    assert _acquire(client, run, "a", "db")["granted"]
    assert client.get("/concurrency_limits/db").json()["active_slots"] == 1


def test_slots_are_all_or_nothing_over_the_tags(client, register, create_run):
    run = _running_run(client, register, create_run)
    client.put("/concurrency_limits/db", json={"limit": 1})
    client.put("/concurrency_limits/api", json={"limit": 5})
    assert _acquire(client, run, "a", "db")["granted"]
    assert _acquire(client, run, "b", "api", "db", "unlimited") == {
        "granted": False,
        "blocked": ["db"],
    }
    # b took no api slot while it waited for db.
    assert client.get("/concurrency_limits/api").json()["active_slots"] == 0


def test_tags_without_a_limit_need_no_slot(client, register, create_run):
    run = _running_run(client, register, create_run)
    assert _acquire(client, run, "a", "free", "also-free") == {"granted": True, "blocked": []}
    assert _acquire(client, run, "b")["granted"]


def test_a_finished_run_holds_no_slots(client, register, create_run):
    run = _running_run(client, register, create_run)
    client.put("/concurrency_limits/db", json={"limit": 1})
    assert _acquire(client, run, "a", "db")["granted"]
    version = client.get(f"/flow_runs/{run}").json()["version"]
    body = {"state": {"type": "Failed", "message": "process died"}, "version": version}
    assert client.post(f"/flow_runs/{run}/state", json=body).status_code == 200
    assert client.get("/concurrency_limits/db").json()["active_slots"] == 0
    other = _running_run(client, register, create_run)
    assert _acquire(client, other, "b", "db")["granted"]


def test_a_run_handed_back_holds_no_slots(client, register, create_run):
    run = _running_run(client, register, create_run)
    client.put("/concurrency_limits/db", json={"limit": 1})
    assert _acquire(client, run, "a", "db")["granted"]
    version = client.get(f"/flow_runs/{run}").json()["version"]
    body = {"state": {"type": "Scheduled", "message": "handed back"}, "version": version}
    assert client.post(f"/flow_runs/{run}/state", json=body).status_code == 200
    assert client.get("/concurrency_limits/db").json()["active_slots"] == 0


def test_acquiring_for_an_unknown_run_is_404(client):
    unknown = "00000000-0000-0000-0000-00000000000f"
    body = {"tags": ["db"], "task_run_key": "a", "flow_run_id": unknown}
    assert client.post("/concurrency_limits/acquire", json=body).status_code == 404


def test_tags_with_slashes_and_spaces_work_through_the_client(db):
    from weir.client import Client

    app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
    with LiveServer(app) as server, Client(server.url) as c:
        c.set_concurrency_limit("team/db pool", 4)
        assert c.get_concurrency_limit("team/db pool").limit == 4
        assert [r.tag for r in c.list_concurrency_limits()] == ["team/db pool"]
        assert c.delete_concurrency_limit("team/db pool").limit == 4


@pytest.mark.slow
def test_concurrent_acquires_never_exceed_the_limit(db, register, create_run):
    """Many task runs ask at once over real HTTP; exactly ``limit`` are granted."""
    app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as http:
        run = _running_run(http, register, create_run)
        http.put("/concurrency_limits/db", json={"limit": 3})
        granted: list[bool] = []
        start = threading.Barrier(24)

        def ask(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as own:
                start.wait()
                body = {"tags": ["db"], "task_run_key": f"k{i}", "flow_run_id": run}
                granted.append(own.post("/concurrency_limits/acquire", json=body).json()["granted"])

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(granted) == [False] * 21 + [True] * 3
        assert http.get("/concurrency_limits/db").json()["active_slots"] == 3


def test_concurrency_limit_commands(db):
    app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
    runner = CliRunner()
    with LiveServer(app) as server:
        env = {"WEIR_API_URL": server.url, "COLUMNS": "200"}

        def invoke(*args: str) -> Any:
            result = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
            return result

        done = invoke("concurrency-limit", "set", "db", "2")
        assert done.exit_code == 0 and "at most 2 task runs" in done.output
        listed = invoke("concurrency-limit", "ls")
        assert "db" in listed.output and "2" in listed.output
        assert invoke("concurrency-limit", "rm", "db").exit_code == 0
        gone = invoke("concurrency-limit", "rm", "db")
        assert gone.exit_code == 1 and "no concurrency limit on tag 'db'" in gone.output
