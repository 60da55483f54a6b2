"""Secrets over the API: who may do what, values never listed, encrypted at rest."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from weir.exceptions import ConfigurationError
from weir.schemas.actions import Role
from weir.server.database.secret_box import KEY_ENV, SecretBox, key_path
from weir.server.models import api_keys, secrets


def _bearer(db, role: Role) -> dict[str, str]:
    with db.session(write=True) as session:
        key = api_keys.create(session, f"{role.value}-key", role)[1]
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(autouse=True)
def fresh_boxes(db, monkeypatch, tmp_path):
    # PostgreSQL's key file would be in weir's home: keep it in this test's directory.
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "home"))
    secrets._boxes.clear()
    yield
    secrets._boxes.clear()


def test_set_read_list_and_remove(client):
    assert client.put("/secrets/DB_PASSWORD", json={"value": "hunter22"}).status_code == 201
    assert (
        client.put("/secrets/CONFIG", json={"value": {"host": "db", "port": 5432}}).status_code
        == 201
    )
    listed = client.get("/secrets").json()
    assert [s["name"] for s in listed] == ["CONFIG", "DB_PASSWORD"]
    assert all(set(s) == {"name", "created", "updated"} for s in listed)
    assert "hunter22" not in client.get("/secrets").text
    assert client.get("/secrets/DB_PASSWORD").json() == {"name": "DB_PASSWORD", "value": "hunter22"}
    assert client.get("/secrets/CONFIG").json()["value"] == {"host": "db", "port": 5432}
    # Setting again replaces the value.
    assert client.put("/secrets/DB_PASSWORD", json={"value": "newer-pw"}).status_code == 200
    assert client.get("/secrets/DB_PASSWORD").json()["value"] == "newer-pw"
    assert client.delete("/secrets/DB_PASSWORD").json()["name"] == "DB_PASSWORD"
    missing = client.get("/secrets/DB_PASSWORD")
    assert missing.status_code == 404 and "weir secret set DB_PASSWORD" in missing.json()["detail"]


def test_names_are_what_an_environment_variable_could_carry(client):
    from weir.client.client import _quote

    assert client.put("/secrets/team.db-pw_1", json={"value": "x-y-z"}).status_code == 201
    assert client.get("/secrets/team.db-pw_1").json()["value"] == "x-y-z"
    for name in ("team/db", "db password", "pw?"):
        refused = client.put(f"/secrets/{_quote(name)}", json={"value": "v"})
        assert refused.status_code in (404, 422), name
    refused = client.put(f"/secrets/{_quote('db password')}", json={"value": "v"})
    assert refused.status_code == 422 and "name" in refused.text


def test_bad_values_are_refused_with_the_field(client):
    response = client.put("/secrets/EMPTY", json={"value": None})
    assert response.status_code == 422 and "weir secret rm" in response.text
    response = client.put("/secrets/BIG", json={"value": "x" * 70_000})
    assert response.status_code == 422 and "64 KiB" in response.text
    assert client.put("/secrets/NOVALUE", json={}).status_code == 422
    assert client.put("/secrets/" + "n" * 201, json={"value": "v"}).status_code == 422
    assert client.get("/secrets").json() == []


def test_admins_write_runs_read_read_only_keys_see_names_only(make_client, db):
    client = make_client(auth=True)
    admin, agent, reader = (_bearer(db, r) for r in (Role.ADMIN, Role.AGENT, Role.READ_ONLY))
    assert client.put("/secrets/S", json={"value": "s3cret!"}, headers=admin).status_code == 201
    for who in (agent, reader):
        refused = client.put("/secrets/S", json={"value": "other"}, headers=who)
        assert refused.status_code == 403
        assert client.delete("/secrets/S", headers=who).status_code == 403
    assert client.get("/secrets/S", headers=agent).json()["value"] == "s3cret!"
    denied = client.get("/secrets/S", headers=reader)
    assert denied.status_code == 403 and "agent or admin key" in denied.json()["detail"]
    assert [s["name"] for s in client.get("/secrets", headers=reader).json()] == ["S"]
    assert client.get("/secrets/S").status_code == 401


def test_values_are_stored_encrypted_with_a_key_kept_apart(client, db):
    client.put("/secrets/TOKEN", json={"value": "plain-text-token-value"})
    with db.session() as session:
        stored = session.execute(text("SELECT value FROM secret")).scalar_one()
    assert "plain-text-token-value" not in stored
    path = key_path(db.sqlite_path)
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    if db.sqlite_path:
        assert path.parent.samefile(os.path.dirname(db.sqlite_path))
    # Another key cannot open it, and says which key it needs.
    with pytest.raises(ConfigurationError, match="not the one it was stored with"):
        other = SecretBox(None)
        other._fernet = Fernet(Fernet.generate_key())
        other.open(stored)


def test_the_key_can_come_from_the_environment(monkeypatch, tmp_path):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(KEY_ENV, key)
    sealed = SecretBox(str(tmp_path / "weir.db")).seal({"a": 1})
    assert not (tmp_path / "secrets.key").exists()
    assert Fernet(key.encode()).decrypt(sealed.encode()) == b'{"a": 1}'
    monkeypatch.setenv(KEY_ENV, "not-a-key")
    with pytest.raises(ConfigurationError, match="is not a Fernet key"):
        SecretBox(str(tmp_path / "weir.db")).seal("x")
