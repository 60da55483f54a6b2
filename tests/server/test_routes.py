"""The API's route class: plain endpoints run in the thread pool, once per request."""

from __future__ import annotations

import asyncio
import inspect

from fastapi.routing import APIRoute

from weir.server.api import health


def _off_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


def test_a_plain_endpoint_runs_off_the_event_loop(client, monkeypatch):
    seen: list[bool] = []
    monkeypatch.setattr(health, "_version", lambda: seen.append(_off_the_loop()) or "x")
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["version"] == "x"
    assert seen == [True]


def test_every_api_route_reaches_fastapi_as_a_coroutine_with_its_own_signature(client):
    routes = [r for r in client.app.routes if isinstance(r, APIRoute)]
    api = [r for r in routes if r.path.startswith("/api/v1/")]
    assert len(api) > 50
    for route in api:
        assert inspect.iscoroutinefunction(route.endpoint), route.path
    spec = client.get("/openapi.json").json()["paths"]
    read_flow = spec["/api/v1/flows/{flow_id}"]["get"]
    assert [p["name"] for p in read_flow["parameters"]] == ["flow_id", "full"]
    health_answer = spec["/api/v1/health"]["get"]["responses"]["200"]["content"]
    assert health_answer["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}


def test_an_endpoints_refusal_still_answers_with_its_status(client):
    missing = client.get("/flow_runs/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert "no flow run" in missing.json()["detail"]


def test_the_spec_shows_every_route_but_health_taking_the_bearer_key(client):
    # Marked without a dependency run per request (see dependencies.KeyedRoute), or by
    # the route's own key-reading dependency; the scheme is described once.
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            expected = [] if path == "/api/v1/health" else [{"HTTPBearer": []}]
            assert operation.get("security", []) == expected, (method, path)
