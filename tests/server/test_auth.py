"""API keys: 401 without a key, read-only keys cannot write, revoking is instant."""

from __future__ import annotations

import re

import pytest

from weir.schemas.actions import Role
from weir.server.models import api_keys

ANY_ID = "00000000-0000-0000-0000-000000000000"


def _key(db, role: Role) -> str:
    with db.session(write=True) as session:
        return api_keys.create(session, f"{role.value}-key", role)[1]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _endpoints(client):
    """Every (method, path) the OpenAPI spec lists, with ids filled in."""
    spec = client.get("/openapi.json").json()
    for template, operations in spec["paths"].items():
        path = re.sub(r"\{[^}]+\}", ANY_ID, template.removeprefix("/api/v1"))
        for method in operations:
            yield method.upper(), path


def test_every_endpoint_but_health_needs_a_key(make_client):
    client = make_client(auth=True)
    seen = 0
    for method, path in _endpoints(client):
        response = client.request(method, path)
        if path == "/health":
            assert response.status_code == 200
            continue
        seen += 1
        assert response.status_code == 401, (method, path, response.text)
        assert "API key" in response.json()["detail"]
    assert seen > 20


def test_a_wrong_key_is_401(make_client):
    client = make_client(auth=True)
    for key in ("nonsense", "weir_abc_def", "weir__"):
        assert client.get("/flows", headers=_bearer(key)).status_code == 401


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AGENT])
def test_writer_keys_can_write(make_client, db, role):
    client = make_client(auth=True)
    key = _key(db, role)
    response = client.post("/flows", json={"serialized_flow": {"name": "f"}}, headers=_bearer(key))
    assert response.status_code == 201


def test_read_only_key_reads_but_cannot_write(make_client, db):
    client = make_client(auth=True)
    key = _key(db, Role.READ_ONLY)
    assert client.get("/flows", headers=_bearer(key)).status_code == 200
    response = client.post("/flows", json={"serialized_flow": {"name": "f"}}, headers=_bearer(key))
    assert response.status_code == 403
    assert "read" in response.json()["detail"]
    assert client.post("/work/claim", json={}, headers=_bearer(key)).status_code == 403


def test_only_admins_manage_keys(make_client, db):
    client = make_client(auth=True)
    agent, admin = _key(db, Role.AGENT), _key(db, Role.ADMIN)
    assert client.get("/api_keys", headers=_bearer(agent)).status_code == 403
    created = client.post(
        "/api_keys", json={"name": "ci", "role": "read_only"}, headers=_bearer(admin)
    )
    assert created.status_code == 201
    assert created.json()["key"].startswith("weir_")
    listed = client.get("/api_keys", headers=_bearer(admin)).json()
    assert all("key" not in k and "key_hash" not in k for k in listed)


def test_revoked_key_stops_working_at_once(make_client, db):
    client = make_client(auth=True)
    admin = _key(db, Role.ADMIN)
    created = client.post(
        "/api_keys", json={"name": "x", "role": "agent"}, headers=_bearer(admin)
    ).json()
    assert client.get("/flows", headers=_bearer(created["key"])).status_code == 200
    revoked = client.delete(f"/api_keys/{created['prefix']}", headers=_bearer(admin))
    assert revoked.json()["revoked"] is True
    assert client.get("/flows", headers=_bearer(created["key"])).status_code == 401


def test_keys_are_stored_hashed(db):
    with db.session(write=True) as session:
        row, key = api_keys.create(session, "k", Role.AGENT)
        assert key not in (row.key_hash, row.prefix)
        assert api_keys.verify(session, key) is Role.AGENT
        assert api_keys.verify(session, key + "x") is None
