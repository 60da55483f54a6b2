"""The runs page's routes (keyset paging, filters), a flow's history grid, a run's task-run
table, failures and log text, and agents stopped or removed; on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from weir.schemas.actions import Role
from weir.server.database import orm
from weir.server.models import api_keys

from .conftest import Clock, _create_run, _register


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _move(client: TestClient, run: dict[str, Any], *types: str, message: str = "") -> None:
    version = run["version"]
    for kind in types:
        body = {"state": {"type": kind, "message": message or None}, "version": version}
        version = _ok(client.post(f"/flow_runs/{run['id']}/state", json=body))["version"]


def _runs(client: TestClient, clock: Clock, flow_id: str, n: int, **body: Any) -> list[str]:
    ids = []
    for _ in range(n):
        clock.now += 1
        ids.append(_create_run(client, flow_id, **body)["id"])
    return ids


def _all_pages(client: TestClient, **params: Any) -> tuple[list[str], int]:
    """Every run id, page by page (older cursor), and how many pages it took."""
    seen, pages, cursor = [], 0, None
    while True:
        query = {**params, **({"before": cursor} if cursor else {})}
        page = _ok(client.get("/ui/runs", params=query))
        pages += 1
        seen += [r["id"] for r in page["runs"]]
        cursor = page["older"]
        if cursor is None:
            return seen, pages


def test_runs_page_pages_by_key_newest_first_without_gaps_or_repeats(make_client: Any) -> None:
    clock = Clock()
    client = make_client(clock=clock)
    flow = _register(client)
    ids = _runs(client, clock, flow["id"], 7)
    # Two runs created at the same instant: the id breaks the tie, neither is lost.
    ids += [_create_run(client, flow["id"])["id"] for _ in range(2)]
    seen, pages = _all_pages(client, limit=3)
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen)) == 9
    assert pages == 3
    created = [_ok(client.get(f"/flow_runs/{i}"))["created"] for i in seen]
    assert created == sorted(created, reverse=True)


def test_runs_page_goes_back_to_newer_pages(make_client: Any) -> None:
    clock = Clock()
    client = make_client(clock=clock)
    ids = _runs(client, clock, _register(client)["id"], 5)[::-1]  # newest first
    first = _ok(client.get("/ui/runs", params={"limit": 2}))
    assert [r["id"] for r in first["runs"]] == ids[:2] and first["newer"] is None
    second = _ok(client.get("/ui/runs", params={"limit": 2, "before": first["older"]}))
    assert [r["id"] for r in second["runs"]] == ids[2:4]
    back = _ok(client.get("/ui/runs", params={"limit": 2, "after": second["newer"]}))
    assert [r["id"] for r in back["runs"]] == ids[:2]
    assert back["newer"] is None and back["older"] == first["older"]


def test_runs_page_filters_by_flow_state_time_labels_and_name(make_client: Any) -> None:
    clock = Clock()
    client = make_client(clock=clock)
    etl, other = _register(client, "etl"), _register(client, "other")
    etl_runs = _runs(client, clock, etl["id"], 3, labels=["gpu"])
    time.sleep(0.01)
    middle = time.time()  # a run's created is the server's wall clock, not the test's
    time.sleep(0.01)
    other_runs = _runs(client, clock, other["id"], 2, name="nightly-special")
    failed = _create_run(client, etl["id"])
    _move(client, failed, "Running", "Failed")

    def ids(**params: Any) -> set[str]:
        return {r["id"] for r in _ok(client.get("/ui/runs", params=params))["runs"]}

    assert ids(flow="etl") == {*etl_runs, failed["id"]}
    assert ids(state="Failed") == {failed["id"]}
    assert ids(state=["Failed", "Scheduled"], flow="other") == set(other_runs)
    assert ids(label="gpu") == set(etl_runs)
    assert ids(label=["gpu", "nope"]) == set()
    assert ids(q="SPECIAL") == set(other_runs)
    assert ids(q=failed["id"][:8]) == {failed["id"]}
    assert ids(q="50%_") == set()  # LIKE's wildcards are matched as text
    assert ids(until=middle) == set(etl_runs)
    assert ids(since=middle, flow="other") == set(other_runs)
    assert client.get("/ui/runs", params={"before": "nonsense"}).status_code == 400
    assert client.get("/ui/runs", params={"state": "Bogus"}).status_code == 422


def test_runs_page_reads_pages_through_the_keyset_indexes(make_client: Any, db: Any) -> None:
    """The database walks (created, id), not the whole table sorted, for a deep page."""
    if db.url.startswith("postgresql"):
        return  # PostgreSQL's planner picks by statistics; the SQLite plan is the contract
    client = make_client()
    _register(client)
    with db.engine.connect() as connection:
        plan = connection.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM flow_run WHERE created <= 5 "
                "AND (created < 5 OR id < 'f') ORDER BY created DESC, id DESC LIMIT 50"
            )
        ).all()
        by_state = connection.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM flow_run WHERE state_type IN ('Failed') "
                "ORDER BY created DESC, id DESC LIMIT 50"
            )
        ).all()
    assert "ix_flow_run_created_id" in str(plan) and "TEMP B-TREE" not in str(plan)
    assert "ix_flow_run_state_type_created_id" in str(by_state)
    assert "TEMP B-TREE" not in str(by_state)


def _made_at(db: Any, ids: list[str], created: float) -> None:
    """Give the runs one creation time, as runs made in the same instant (a scheduler
    tick, a backfill) have: only the id orders them."""
    run = orm.FlowRun
    with db.write_engine.begin() as connection:
        connection.execute(
            update(run).where(run.id.in_([uuid.UUID(i) for i in ids])).values(created=created)
        )


def _newest_first(db: Any, ids: list[str]) -> list[str]:
    run = orm.FlowRun
    with db.engine.connect() as connection:
        rows = connection.execute(
            select(run.id)
            .where(run.id.in_([uuid.UUID(i) for i in ids]))
            .order_by(run.created.desc(), run.id.desc())
        )
        return [str(i) for (i,) in rows]


def test_runs_made_at_one_instant_page_by_id_both_ways(make_client: Any, db: Any) -> None:
    client = make_client()
    flow = _register(client)
    ids = [_create_run(client, flow["id"])["id"] for _ in range(9)]
    _made_at(db, ids[1:8], 1_800_000_000.0)
    _made_at(db, ids[:1], 1_800_000_001.0)
    _made_at(db, ids[8:], 1_799_999_999.0)
    expected = _newest_first(db, ids)
    pages, cursor = [], None
    while True:
        page = _ok(
            client.get("/ui/runs", params={"limit": 2, **({"before": cursor} if cursor else {})})
        )
        pages.append(page)
        cursor = page["older"]
        if cursor is None:
            break
    assert [r["id"] for p in pages for r in p["runs"]] == expected
    # And back again, newer page by newer page, from the last one: the same pages.
    back = [pages[-1]]
    while back[-1]["newer"]:
        back.append(_ok(client.get("/ui/runs", params={"limit": 2, "after": back[-1]["newer"]})))
    assert [[r["id"] for r in p["runs"]] for p in reversed(back)] == [
        [r["id"] for r in p["runs"]] for p in pages
    ]


def test_paging_keeps_every_filter_across_pages(make_client: Any, db: Any) -> None:
    client = make_client()
    etl, other = _register(client, "etl"), _register(client, "other")
    mine = [_create_run(client, etl["id"]) for _ in range(6)]
    theirs = [_create_run(client, other["id"]) for _ in range(3)]
    for run in mine[::2] + theirs:
        _move(client, run, "Running", "Failed")
    _made_at(db, [r["id"] for r in mine + theirs], 1_800_000_000.0)
    failed = _newest_first(db, [r["id"] for r in mine[::2]])
    seen, pages = _all_pages(client, flow="etl", state="Failed", limit=1)
    assert seen == failed and pages == 3
    seen, _ = _all_pages(client, flow="etl", state=["Failed", "Scheduled"], limit=4)
    assert seen == _newest_first(db, [r["id"] for r in mine])


def test_the_runs_list_orders_runs_of_one_instant_by_id(make_client: Any, db: Any) -> None:
    """GET /flow_runs: offset pages over runs made at the same instant neither repeat
    nor skip one, by flow name and by state."""
    client = make_client()
    flow = _register(client, "etl")
    ids = [_create_run(client, flow["id"])["id"] for _ in range(5)]
    _made_at(db, ids, 1_800_000_000.0)
    for params in ({"flow_name": "etl"}, {"state": "Scheduled"}):
        seen = []
        for offset in range(0, 6, 2):
            page = _ok(client.get("/flow_runs", params={**params, "limit": 2, "offset": offset}))
            seen += [r["id"] for r in page]
        assert seen == _newest_first(db, ids)
    oldest = _ok(client.get("/flow_runs", params={"newest_first": False, "limit": 5}))
    assert [r["id"] for r in oldest] == _newest_first(db, ids)[::-1]


def test_a_flows_runs_and_the_dashboard_read_through_indexes(make_client: Any, db: Any) -> None:
    """A flow's page walks (flow_id, created, id); the dashboard counts a window from
    (state_type, start_time) alone: neither reads the table nor sorts."""
    if db.url.startswith("postgresql"):
        return  # PostgreSQL's planner picks by statistics; the SQLite plan is the contract
    client = make_client()
    _register(client)
    with db.engine.connect() as connection:
        by_flow = connection.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM flow_run WHERE flow_id IN ('a') "
                "AND created <= 5 AND (created < 5 OR id < 'f') "
                "ORDER BY created DESC, id DESC LIMIT 50"
            )
        ).all()
        buckets = connection.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT state_type, count(*) FROM flow_run "
                "WHERE state_type IN ('Success', 'Failed') AND start_time >= 1 "
                "AND start_time <= 2 GROUP BY state_type"
            )
        ).all()
    assert "ix_flow_run_flow_id_created_id" in str(by_flow) and "TEMP B-TREE" not in str(by_flow)
    assert "COVERING INDEX ix_flow_run_state_type_start_time" in str(buckets)


def _write(client: TestClient, run_id: str, slug: str, index: int, *states: Any) -> None:
    body = [
        {
            "flow_run_id": run_id,
            "task_slug": slug,
            "map_index": index,
            "states": [{"type": kind, "message": msg} for kind, msg in states],
        }
    ]
    [written] = _ok(client.post("/task_runs/batch", json=body))
    assert written["accepted"], written


def test_flow_grid_shows_recent_runs_by_task(client: TestClient) -> None:
    flow = _register(client)
    old, new = _create_run(client, flow["id"]), _create_run(client, flow["id"])
    _write(client, old["id"], "extract-1", -1, ("Running", None), ("Success", None))
    _write(client, new["id"], "extract-1", -1, ("Running", None), ("Failed", "boom"))
    _write(client, new["id"], "load-1", 0, ("Running", None), ("Success", None))
    grid = _ok(client.get(f"/ui/flows/{flow['id']}/grid", params={"runs": 5}))
    assert [r["id"] for r in grid["runs"]] == [new["id"], old["id"]]
    assert grid["cells"][old["id"]] == {"extract-1": {"state": "Success", "counts": {}}}
    assert grid["cells"][new["id"]]["extract-1"]["state"] == "Failed"
    assert grid["cells"][new["id"]]["load-1"]["counts"] == {"Success": 1}
    assert client.get(f"/ui/flows/{new['id']}/grid").status_code == 404


def test_a_failed_run_lists_its_failures_causes_first(client: TestClient) -> None:
    run = _create_run(client, _register(client)["id"])
    _move(client, run, "Running")
    _write(client, run["id"], "load-1", -1, ("TriggerFailed", "Upstream failed"))
    _write(client, run["id"], "extract-1", 3, ("Running", None), ("Failed", "ValueError: no"))
    assert _ok(client.get(f"/ui/flow_runs/{run['id']}"))["failures"] == []
    run = _ok(client.get(f"/flow_runs/{run['id']}"))
    _move(client, run, "Failed", message="Some reference tasks failed.")
    failures = _ok(client.get(f"/ui/flow_runs/{run['id']}"))["failures"]
    assert [(f["slug"], f["map_index"], f["state"], f["message"]) for f in failures] == [
        ("extract-1", 3, "Failed", "ValueError: no"),
        ("load-1", -1, "TriggerFailed", "Upstream failed"),
    ]


def test_task_run_table_sorts_filters_and_pages(client: TestClient) -> None:
    run = _create_run(client, _register(client)["id"])
    _write(client, run["id"], "extract-1", -1, ("Running", None), ("Mapped", None))
    for i in range(4):
        final = ("Failed", f"no {i}") if i % 2 else ("Success", None)
        _write(client, run["id"], "extract-1", i, ("Running", None), final)
    url = f"/ui/flow_runs/{run['id']}/task_runs"
    table = _ok(client.get(url))
    assert table["total"] == 5
    assert [(r["slug"], r["map_index"]) for r in table["rows"]][:2] == [
        ("extract-1", -1),
        ("extract-1", 0),
    ]
    row = table["rows"][1]
    assert row["attempts"] == 1  # one run: the engine counts only retries
    assert row["duration"] is not None and row["duration"] >= 0
    children = _ok(client.get(url, params={"slug": "extract-1", "state": "Failed"}))
    assert [r["map_index"] for r in children["rows"]] == [1, 3] and children["total"] == 2
    by_state = _ok(client.get(url, params={"sort": "state", "desc": True, "limit": 2}))
    assert [r["state"] for r in by_state["rows"]] == ["Success", "Success"]
    assert client.get(url, params={"sort": "drop table"}).status_code == 422


def test_logs_as_text_name_the_map_index(client: TestClient) -> None:
    run = _create_run(client, _register(client)["id"])
    lines = [
        {"flow_run_id": run["id"], "timestamp": 0.5, "level": 20, "name": "r", "message": "go"},
        {
            "flow_run_id": run["id"],
            "task_slug": "fetch-1",
            "map_index": 3,
            "timestamp": 1.25,
            "level": 40,
            "name": "t",
            "message": "bad",
        },
    ]
    _ok(client.post("/logs/batch", json=lines))
    response = client.get(f"/ui/flow_runs/{run['id']}/logs.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.splitlines() == [
        "1970-01-01T00:00:00.500+00:00 INFO     flow go",
        "1970-01-01T00:00:01.250+00:00 ERROR    fetch-1[3] bad",
    ]


def test_an_agent_says_it_stopped_and_an_admin_removes_it(make_client: Any) -> None:
    client = make_client()
    agent = _ok(client.post("/agents", json={"name": "a1", "labels": []}))
    assert agent["stopped_at"] is None
    stopped = _ok(client.post(f"/agents/{agent['id']}/stopped"))
    assert stopped["stopped_at"] is not None
    beating = _ok(client.post(f"/agents/{agent['id']}/heartbeat"))
    assert beating["stopped_at"] is None  # it runs again
    assert client.delete(f"/agents/{agent['id']}").status_code == 204
    assert client.get(f"/agents/{agent['id']}").status_code == 404
    assert client.delete(f"/agents/{agent['id']}").status_code == 404


def test_removing_an_agent_needs_an_admin_key(make_client: Any, db: Any) -> None:
    client = make_client(auth=True)
    with db.session(write=True) as session:
        _, admin = api_keys.create(session, "admin", Role.ADMIN)
        _, user = api_keys.create(session, "user", Role.AGENT)
    agent = client.post(
        "/agents", json={"name": "a2"}, headers={"Authorization": f"Bearer {user}"}
    ).json()
    refused = client.delete(f"/agents/{agent['id']}", headers={"Authorization": f"Bearer {user}"})
    assert refused.status_code == 403
    done = client.delete(f"/agents/{agent['id']}", headers={"Authorization": f"Bearer {admin}"})
    assert done.status_code == 204


def test_a_mapped_task_says_how_many_children_it_will_have(client: TestClient) -> None:
    """The engine's task_mapped event gives the total before the children all exist."""
    run = _create_run(client, _register(client)["id"])
    event = {"flow_run_id": run["id"], "kind": "task_mapped", "timestamp": 1.0}
    event |= {"task_slug": "extract-1", "data": {"children": 200}}
    assert client.post("/trace/batch", json=[event]).status_code == 201
    _write(client, run["id"], "extract-1", 0, ("Running", None), ("Success", None))
    tasks = {t["slug"]: t for t in _ok(client.get(f"/ui/flow_runs/{run['id']}"))["tasks"]}
    assert tasks["extract-1"]["expected"] == 200
    assert tasks["extract-1"]["children"] == 1
