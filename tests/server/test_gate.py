"""The request gate: host names, JSON-only writes, the key before the body, body and batch limits.

The refusals that must happen before the body is read are checked on a real
server through a raw socket: the request announces (or streams) far more than
it sends, so an answer can only come from a server that did not wait for it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from weir.schemas.actions import Role
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.models import api_keys
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, chunked, clear, send_raw, temporary_database

MB = 1 << 20


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    with temporary_database("sqlite") as db:
        yield db


@pytest.fixture
def make_app(database: Database) -> Any:
    clear(database)

    def make(**settings: Any) -> Any:
        return create_app(
            ServerSettings(database_url=database.url, **settings), db=database, migrate=False
        )

    return make


def _client(app: Any, host: str = "localhost") -> TestClient:
    return TestClient(app, base_url=f"http://{host}/api/v1")


def _key(db: Database, role: Role) -> str:
    with db.session(write=True) as session:
        return api_keys.create(session, f"{role.value}-key", role)[1]


def megabytes(n: int, size: int = MB) -> Iterator[bytes]:
    for _ in range(n):
        yield b" " * size


# --- host names --------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.0.0.1:4200", "[::1]:80"])
def test_loopback_names_are_served(make_app: Any, host: str) -> None:
    assert _client(make_app(), host).get("/health").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:4200", "127.0.0.1.evil.example"])
def test_other_host_names_are_refused_naming_the_option(make_app: Any, host: str) -> None:
    client = _client(make_app(), host)
    for path in ("/health", "/flows"):
        response = client.get(path)
        assert response.status_code == 400
        assert "--allowed-host" in response.json()["detail"]
        assert "WEIR_SERVER_ALLOWED_HOSTS" in response.json()["detail"]
    # The UI too: a rebound name must not load pages that hold the key.
    assert client.get("http://evil.example/").status_code == 400


def test_configured_names_and_wildcards_are_served(make_app: Any) -> None:
    app = make_app(allowed_hosts=("127.0.0.1", "weir.example.org", "*.corp.example"))
    assert _client(app, "weir.example.org").get("/health").status_code == 200
    assert _client(app, "ci.corp.example:4200").get("/health").status_code == 200
    assert _client(app, "corp.example.evil").get("/health").status_code == 400
    assert _client(make_app(allowed_hosts=("*",)), "any.where").get("/health").status_code == 200


def test_allowed_hosts_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_SERVER_ALLOWED_HOSTS", "Weir.Example.org, ci.example")
    hosts = ServerSettings.from_env().allowed_hosts
    assert {"127.0.0.1", "localhost", "::1", "weir.example.org", "ci.example"} <= set(hosts)


# --- writes need JSON (no cross-site form or text posts) ---------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
@pytest.mark.parametrize("path", ["/flows", "/task_runs/batch", "/logs/batch", "/trace/batch"])
def test_a_write_whose_body_is_not_json_is_415(make_app: Any, path: str, content_type: Any) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = _client(make_app()).post(path, content=b"[]", headers=headers)
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["detail"]


def test_json_with_a_charset_is_json(make_app: Any) -> None:
    response = _client(make_app()).post(
        "/logs/batch", content=b"[]", headers={"content-type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 201


def test_a_write_without_a_body_passes_unless_a_browser_sends_it_from_another_site(
    make_app: Any,
) -> None:
    client = _client(make_app())
    path = f"/flow_runs/{uuid.uuid4()}/cancel"
    assert client.post(path).status_code == 404  # reached the route: the CLI's way
    same_site = {"origin": "http://localhost"}
    assert client.post(path, headers=same_site).status_code == 404  # the UI's way
    refused = client.post(path, headers={"origin": "https://evil.example"})
    assert refused.status_code == 415
    assert client.post(path, headers={"origin": "null"}).status_code == 415


# --- the key is checked before the body is read -------------------------------------------


def test_without_a_key_a_huge_body_is_401_before_it_is_read(make_app: Any) -> None:
    with LiveServer(make_app(auth=True)) as live:
        headers = {"content-type": "application/json", "content-length": str(200 * MB)}
        status, body, sent = send_raw(live.port, "POST", "/api/v1/flows", headers, megabytes(200))
        assert status == 401
        assert "API key" in body["detail"]
        assert sent < 100 * MB
        # A wrong key, a streamed body: the same.
        headers = {"content-type": "application/json", "transfer-encoding": "chunked"}
        headers["authorization"] = "Bearer weir_nope_nope"
        status, body, sent = send_raw(
            live.port, "POST", "/api/v1/task_runs/batch", headers, chunked(megabytes(200))
        )
        assert status == 401
        assert "unknown or was revoked" in body["detail"]


def test_role_rules_hold_in_front_of_the_routes(make_app: Any, database: Database) -> None:
    client = _client(make_app(auth=True))
    reader = {"Authorization": f"Bearer {_key(database, Role.READ_ONLY)}"}
    agent = {"Authorization": f"Bearer {_key(database, Role.AGENT)}"}
    assert client.get("/flows", headers=reader).status_code == 200
    refused = client.post("/logs/batch", json=[], headers=reader)
    assert refused.status_code == 403
    assert "may only read" in refused.json()["detail"]
    assert client.post("/logs/batch", json=[], headers=agent).status_code == 201
    assert client.get("/api_keys", headers=agent).status_code == 403
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200


# --- the body size limit -------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_naming_the_limit_and_the_setting(make_app: Any) -> None:
    with LiveServer(make_app(max_body_bytes=MB)) as live:
        announced = {"content-type": "application/json", "content-length": str(200 * MB)}
        status, body, sent = send_raw(
            live.port, "POST", "/api/v1/logs/batch", announced, megabytes(200)
        )
        assert status == 413
        assert str(MB) in body["detail"] and "WEIR_SERVER_MAX_BODY_BYTES" in body["detail"]
        assert sent < 100 * MB
        # No Content-Length: refused once the streamed bytes pass the limit.
        streamed = {"content-type": "application/json", "transfer-encoding": "chunked"}
        for path in (
            "/api/v1/logs/batch",
            "/api/v1/flows",
            f"/api/v1/flow_runs/{uuid.uuid4()}/state",
        ):
            status, body, sent = send_raw(
                live.port, "POST", path, streamed, chunked(megabytes(200, 64 * 1024))
            )
            assert status == 413, (path, body)
            assert "WEIR_SERVER_MAX_BODY_BYTES" in body["detail"]
        # The client sees it as a refusal, not as a broken connection.
        response = httpx.post(
            f"{live.url}/logs/batch",
            content=b"[" + b" " * (8 * MB) + b"]",
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        # Under the limit: served.
        small = httpx.post(f"{live.url}/logs/batch", json=[])
        assert small.status_code == 201


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_SERVER_MAX_BODY_BYTES", "1000")
    monkeypatch.setenv("WEIR_SERVER_MAX_BATCH_ITEMS", "7")
    settings = ServerSettings.from_env()
    assert (settings.max_body_bytes, settings.max_batch_items) == (1000, 7)
    monkeypatch.setenv("WEIR_SERVER_MAX_BODY_BYTES", "lots")
    with pytest.raises(Exception, match="WEIR_SERVER_MAX_BODY_BYTES"):
        ServerSettings.from_env()


# --- batch item limits ---------------------------------------------------------------------


def _run_id(client: TestClient) -> str:
    flow = client.post("/flows", json={"serialized_flow": {"name": "f"}}).json()["flow"]
    return str(client.post("/flow_runs", json={"flow_id": flow["id"]}).json()["id"])


def _items(run_id: str, n: int) -> dict[str, list[dict[str, Any]]]:
    now = time.time()
    return {
        "task_runs": [
            {"flow_run_id": run_id, "task_slug": f"t-{i}", "state": {"type": "Running"}}
            for i in range(n)
        ],
        "logs": [{"flow_run_id": run_id, "timestamp": now, "message": "m"} for _ in range(n)],
        "trace": [{"flow_run_id": run_id, "timestamp": now, "kind": "k"} for _ in range(n)],
    }


@pytest.mark.parametrize("kind", ["task_runs", "logs", "trace"])
def test_a_batch_over_the_item_limit_is_422_naming_the_setting(make_app: Any, kind: str) -> None:
    client = _client(make_app(max_batch_items=5))
    run_id = _run_id(client)
    assert client.post(f"/{kind}/batch", json=_items(run_id, 5)[kind]).status_code in (200, 201)
    response = client.post(f"/{kind}/batch", json=_items(run_id, 6)[kind])
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert "6 items" in error["msg"] and "limit of 5" in error["msg"]
    assert "WEIR_SERVER_MAX_BATCH_ITEMS" in error["msg"]


@pytest.mark.parametrize("kind", ["task_runs", "logs", "trace"])
def test_a_flow_run_state_carrying_too_many_items_is_422_naming_the_field(
    make_app: Any, kind: str
) -> None:
    client = _client(make_app(max_batch_items=5))
    run_id = _run_id(client)
    body = {"state": {"type": "Running"}, "version": 1, kind: _items(run_id, 6)[kind]}
    response = client.post(f"/flow_runs/{run_id}/state", json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", kind]
    assert "WEIR_SERVER_MAX_BATCH_ITEMS" in error["msg"]
    # Nothing of it was written, and the run did not move.
    assert client.get(f"/flow_runs/{run_id}").json()["version"] == 1
    assert client.get(f"/flow_runs/{run_id}/logs").json()["logs"] == []
    assert client.get(f"/flow_runs/{run_id}/task_runs").json() == []


def test_a_refused_batch_is_not_echoed_back_whole(make_app: Any) -> None:
    client = _client(make_app())
    items = [{"flow_run_id": "not-a-uuid", "task_slug": "t", "state": {"type": "Running"}}]
    response = client.post("/task_runs/batch", json=items * 20_000)
    assert response.status_code == 422
    assert len(response.content) < 10_000
    # A model-validated route too: the big value is cut in the echo.
    response = client.post("/flows", json={"serialized_flow": {"name": "x" * 500}, "labels": 1})
    assert response.status_code == 422
    assert len(response.content) < 2_000


# --- a big batch does not stall the server --------------------------------------------------


def test_health_answers_while_a_huge_batch_is_refused(make_app: Any) -> None:
    """60,000 items (about 10 MB, under the body limit): refused, and /health goes on.

    The 422 used to echo the whole batch back, encoded on the event loop (seconds,
    during which /health got no answer), after validating every item in native code
    that held the GIL.
    """
    with LiveServer(make_app()) as live, httpx.Client(base_url=live.url) as http:
        run_id = http.post("/flows", json={"serialized_flow": {"name": "f"}}).json()["flow"]["id"]
        run_id = http.post("/flow_runs", json={"flow_id": run_id}).json()["id"]
        items = _items(run_id, 60_000)["task_runs"]
        body = json.dumps(items).encode()
        slowest: list[float] = []
        stop = threading.Event()

        def probe() -> None:
            with httpx.Client(base_url=live.url, timeout=60) as prober:
                while not stop.is_set():
                    start = time.monotonic()
                    assert prober.get("/health").status_code == 200
                    slowest.append(time.monotonic() - start)
                    time.sleep(0.02)

        thread = threading.Thread(target=probe)
        thread.start()
        try:
            for _ in range(3):
                response = httpx.post(
                    f"{live.url}/task_runs/batch",
                    content=body,
                    headers={"content-type": "application/json"},
                    timeout=120,
                )
                assert response.status_code == 422
        finally:
            time.sleep(0.2)
            stop.set()
            thread.join(60)
        assert max(slowest) < 2.0, max(slowest)
