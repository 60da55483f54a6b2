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
    client = TestClient(app, base_url="http://testserver/api/v1")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    db.dispose()
