"""Text holding NUL is stored on every write path: as is on SQLite, cleaned on PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import pytest

from weir.server.database.pg_text import REPLACEMENT, clean_json_text

NUL_TEXT = "before\x00after"


def _stored(db: Any, text: str) -> str:
    """What ``text`` reads back as: SQLite keeps NUL, PostgreSQL holds U+FFFD."""
    return text if db.is_sqlite else text.replace("\x00", REPLACEMENT)


@pytest.fixture
def run_id(client: Any, register: Any, create_run: Any) -> str:
    return str(create_run(client, register(client)["id"])["id"])


def _line(run_id: str, seq: int, message: str = NUL_TEXT, **extra: Any) -> dict[str, Any]:
    return {
        "flow_run_id": run_id,
        "timestamp": time.time(),
        "message": message,
        "name": "task\x00logger",
        "sender_id": "00000000-0000-4000-8000-000000000001",
        "seq": seq,
        **extra,
    }


def _event(run_id: str, seq: int) -> dict[str, Any]:
    return {
        "flow_run_id": run_id,
        "kind": "custom",
        "timestamp": time.time(),
        "data": {"value": NUL_TEXT, "key\x00": [NUL_TEXT, {"deep": "\x00"}]},
        "sender_id": "00000000-0000-4000-8000-000000000002",
        "seq": seq,
    }


def _task_item(run_id: str, slug: str) -> dict[str, Any]:
    return {
        "flow_run_id": run_id,
        "task_slug": slug,
        "states": [
            {"type": "Running"},
            {"type": "Success", "message": NUL_TEXT, "result": {"text": NUL_TEXT}},
        ],
    }


def test_log_lines_with_nul_are_stored_once(client, db, run_id) -> None:
    # Two lines: the bulk path that skips stored lines, and one without identity (COPY).
    plain = {k: v for k, v in _line(run_id, 0).items() if k not in ("sender_id", "seq")}
    batch = [_line(run_id, 0), plain]
    assert client.post("/logs/batch", json=batch).status_code == 201
    assert client.post("/logs/batch", json=batch[:1]).json()["count"] == 0  # sent again
    logs = client.get(f"/flow_runs/{run_id}/logs").json()["logs"]
    assert [line["message"] for line in logs] == [_stored(db, NUL_TEXT)] * 2
    assert logs[0]["name"] == _stored(db, "task\x00logger")


def test_trace_events_with_nul_in_json_keys_and_values_are_stored(client, db, run_id) -> None:
    assert client.post("/trace/batch", json=[_event(run_id, 0)]).status_code == 201
    [event] = [e for e in client.get(f"/flow_runs/{run_id}/trace").json() if e["kind"] == "custom"]
    text = _stored(db, NUL_TEXT)
    assert event["data"] == {
        "value": text,
        _stored(db, "key\x00"): [text, {"deep": _stored(db, "\x00")}],
    }


@pytest.mark.parametrize("wait", ["true", "false"])
def test_task_run_states_with_nul_are_stored(client, db, run_id, wait) -> None:
    answer = client.post(
        "/task_runs/batch", params={"wait": wait}, json=[_task_item(run_id, "a\x00b")]
    )
    assert answer.status_code in (200, 202), answer.text
    if wait == "true":
        assert all(o["accepted"] for o in answer.json())
    [task_run] = client.get(f"/flow_runs/{run_id}/task_runs").json()
    assert task_run["task_slug"] == _stored(db, "a\x00b")
    assert task_run["state"]["message"] == _stored(db, NUL_TEXT)
    assert task_run["state"]["result"] == {"text": _stored(db, NUL_TEXT)}
    # The same task run again, named as the engine names it: found, not a new one.
    again = {"flow_run_id": run_id, "task_slug": "a\x00b", "state": {"type": "Running"}}
    answer = client.post("/task_runs/batch", json=[again])
    assert answer.status_code == 200, answer.text
    assert answer.json()[0]["accepted"] is False
    assert len(client.get(f"/flow_runs/{run_id}/task_runs").json()) == 1


def test_a_single_task_run_state_with_nul_is_stored(client, db, run_id) -> None:
    item = {"flow_run_id": run_id, "task_slug": "a", "state": {"type": "Running"}}
    [written] = client.post("/task_runs/batch", json=[item]).json()
    body = {"state": {"type": "Failed", "message": NUL_TEXT, "info": "\x00"}, "version": 1}
    answer = client.post(f"/task_runs/{written['task_run_id']}/state", json=body)
    assert answer.status_code == 200, answer.text
    stored = client.get(f"/task_runs/{written['task_run_id']}").json()
    assert stored["state"]["message"] == _stored(db, NUL_TEXT)
    history = client.get(f"/task_runs/{written['task_run_id']}/states").json()
    assert history[-1]["state"]["info"] == _stored(db, "\x00")


def test_a_flow_run_state_with_nul_and_its_reports_are_stored(client, db, run_id) -> None:
    version = client.get(f"/flow_runs/{run_id}").json()["version"]
    for kind, message in (("Running", None), ("Failed", NUL_TEXT)):
        body = {
            "state": {"type": kind, "message": message, "detail": {"x": NUL_TEXT}},
            "version": version,
            "task_runs": [_task_item(run_id, f"t-{kind}")],
            "logs": [_line(run_id, version)],
            "trace": [_event(run_id, version)],
        }
        answer = client.post(f"/flow_runs/{run_id}/state", json=body)
        assert answer.status_code == 200, answer.text
        version = answer.json()["version"]
    run = client.get(f"/flow_runs/{run_id}").json()
    assert run["state"]["message"] == _stored(db, NUL_TEXT)
    assert run["state"]["detail"] == {"x": _stored(db, NUL_TEXT)}
    history = client.get(f"/flow_runs/{run_id}/states").json()
    assert history[-1]["state"]["message"] == _stored(db, NUL_TEXT)
    assert len(client.get(f"/flow_runs/{run_id}/task_runs").json()) == 2
    assert len(client.get(f"/flow_runs/{run_id}/logs").json()["logs"]) == 2
    trace = client.get(f"/flow_runs/{run_id}/trace").json()
    assert sum(e["kind"] == "custom" for e in trace) == 2


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        (r'{"a":"x\u0000y"}', '{"a":"x\ufffdy"}'),
        (r'{"a\u0000":1}', '{"a\ufffd":1}'),
        (r'{"a":"\\u0000"}', r'{"a":"\\u0000"}'),  # an escaped backslash, then "u0000"
        (r'{"a":"\\\u0000"}', '{"a":"\\\\\ufffd"}'),  # a backslash, then NUL
        ('{"a":"plain"}', '{"a":"plain"}'),
    ],
)
def test_json_text_loses_only_real_nul_escapes(text: str, cleaned: str) -> None:
    assert clean_json_text(text) == cleaned


def test_no_route_answers_500_for_nul(client, serialized_flow) -> None:
    """Names, labels, tags, parameters, filters and paths with NUL: stored or refused,
    never a 500 (PostgreSQL's driver refuses NUL in any text it is given)."""
    nul = "a\x00b"
    project = client.post("/projects", json={"name": nul, "description": nul})
    assert project.status_code < 500, project.text
    body = {"serialized_flow": serialized_flow(nul), "project": nul, "labels": [nul]}
    registered = client.post("/flows", json=body)
    assert registered.status_code in (200, 201), registered.text
    flow_id = registered.json()["flow"]["id"]
    run = client.post(
        "/flow_runs",
        json={
            "flow_id": flow_id,
            "name": nul,
            "labels": [nul],
            "parameters": {"who": nul},
            "idempotency_key": nul,
        },
    )
    assert run.status_code == 201, run.text
    again = client.post("/flow_runs", json={"flow_id": flow_id, "idempotency_key": nul})
    assert again.status_code == 200, again.text  # found by its key
    assert again.json()["id"] == run.json()["id"]
    answers = [
        client.get("/flows", params={"name": nul}),
        client.get("/flow_runs", params={"flow_name": nul, "project": nul}),
        client.post("/agents", json={"name": nul, "labels": [nul], "type": nul}),
        client.put("/concurrency_limits/a%00b", json={"limit": 1}),
        client.get("/concurrency_limits/a%00b"),
        client.post(
            "/concurrency_limits/acquire",
            json={"tags": [nul], "task_run_key": nul, "flow_run_id": run.json()["id"]},
        ),
        client.post("/api_keys", json={"name": nul}),
    ]
    for answer in answers:
        assert answer.status_code < 500, (answer.request.url, answer.text)
