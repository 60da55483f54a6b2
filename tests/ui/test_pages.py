"""The page shells and static files, over HTTP: served, data-free, with security headers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import temporary_database
from weir.server.ui.pages import STATIC, STATIC_URL

PAGES = ["/", "/flows", "/flow-runs", "/agents", "/login"]
#: Ids nothing has: a plain not-found page, with the same headers as any page. Fixed, not
#: fresh uuid4s: parallel workers (pytest -n) must collect the same test ids.
_NOWHERE = uuid.UUID(int=1)
UNKNOWN = [f"/flows/{_NOWHERE}", f"/flow-runs/{_NOWHERE}", "/flow-runs/not-a-uuid"]


@pytest.fixture(scope="module", params=[False, True], ids=["auth-off", "auth-on"])
def http(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    with temporary_database("sqlite") as db:
        settings = ServerSettings(database_url=db.url, auth=request.param)
        app = create_app(settings, db=db, migrate=False)
        with TestClient(app, base_url="http://localhost") as client:
            yield client


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_served_without_a_key(http: TestClient, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script>" not in response.text  # no inline code: the policy would block it
    assert 'href="/flows"' in response.text


def test_pages_say_whether_auth_is_on(http: TestClient) -> None:
    auth = http.app.state.weir.settings.auth  # type: ignore[attr-defined]
    body = http.get("/").text
    assert f'data-auth="{"on" if auth else "off"}"' in body
    assert ("Log in" in body) is auth


def test_static_files_are_versioned_and_served(http: TestClient) -> None:
    body = http.get("/flows").text
    for name in ("weir.js", "weir.css", "flows.js"):
        assert f"{STATIC_URL}/{name}?v=" in body
    for path in STATIC.iterdir():
        assert http.get(f"{STATIC_URL}/{path.name}").status_code == 200


@pytest.mark.parametrize("path", UNKNOWN)
def test_an_unknown_or_malformed_id_is_a_not_found_page(http: TestClient, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<h1>Not found</h1>" in response.text
    assert path.rsplit("/", 1)[1] in response.text


def test_the_api_keeps_its_routes(http: TestClient) -> None:
    assert http.get("/api/v1/health").status_code == 200
