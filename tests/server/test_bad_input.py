"""Inputs that once reached the database or the encoder: each must be a 4xx, never a 500."""

from __future__ import annotations

import pytest

BODIES = [
    '{"serialized_flow": {"name": "a\\u0000b"}}',
    '{"serialized_flow": {"name": "ab", "x": "\\u0000"}}',
    '{"serialized_flow": {"name": "\\ud800"}}',
    '{"serialized_flow": {"name": "ok", "nested": {"\\udfff": 1}}}',
    '{"serialized_flow": {"name": "ok", "x": NaN}}',
    '{"serialized_flow": {"name": "ok", "x": 1e400}}',
    '{"serialized_flow": {"name": "ok", "parameters": [{"name": {"a": 1}}, 1, null]}}',
    '{"serialized_flow": {"name": "ok", "parameters": "zz"}}',
    '{"serialized_flow": "x"}',
    "[1, 2",
]


@pytest.mark.parametrize("body", BODIES)
def test_odd_flow_bodies_never_get_a_server_error(make_client, body):
    client = make_client()
    response = client.post("/flows", content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500
    if response.status_code < 300:
        assert client.get("/flows").status_code == 200


def test_a_valid_surrogate_pair_is_fine(client):
    body = '{"serialized_flow": {"name": "smile \\ud83d\\ude00"}}'
    response = client.post("/flows", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 201
    assert response.json()["flow"]["name"] == "smile \U0001f600"


def test_an_unreachable_database_is_503_not_500():
    from fastapi.testclient import TestClient

    from weir.server.app import create_app
    from weir.server.database.engine import Database
    from weir.server.settings import ServerSettings

    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(ServerSettings(), db=db, migrate=False)
    client = TestClient(app, base_url="http://localhost/api/v1")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    db.dispose()


BATCH_BODIES = [
    (b"\x80", ["body"]),  # not UTF-8
    (b"", ["body"]),
    (b"[1, 2", ["body"]),
    (b'{"flow_run_id": 1}', ["body"]),  # not a list
    (
        b'[{"flow_run_id": "x", "task_slug": "a", "state": {"type": "Running"}}]',
        ["body", 0, "flow_run_id"],
    ),
    (
        b'[{"flow_run_id": "00000000-0000-0000-0000-000000000000", "task_slug": "a", '
        b'"state": {"type": "Runnin"}}]',
        ["body", 0, "state", "type"],
    ),
    (
        b'[{"flow_run_id": "00000000-0000-0000-0000-000000000000", "task_slug": "a", '
        b'"state": {"type": "Running"}, "extra": 1}]',
        ["body", 0, "extra"],
    ),
]


@pytest.mark.parametrize(("body", "loc"), BATCH_BODIES)
def test_a_bad_task_run_batch_is_a_422_naming_the_field(client, body, loc):
    response = client.post(
        "/task_runs/batch", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc


def test_a_task_run_batch_over_the_limit_is_a_422(client):
    from weir.server.api.task_runs import MAX_BATCH

    item = (
        b'{"flow_run_id": "00000000-0000-0000-0000-000000000000", "task_slug": "a", '
        b'"state": {"type": "Running"}}'
    )
    body = b"[" + b",".join([item] * (MAX_BATCH + 1)) + b"]"
    response = client.post(
        "/task_runs/batch", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("too_long", ["body"])
