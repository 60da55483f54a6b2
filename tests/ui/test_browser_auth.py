"""Logging in with an API key when the server's auth is on, in Debian's chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from weir.client import Client
from weir.schemas.actions import Role
from weir.server.app import create_app
from weir.server.models import api_keys
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, temporary_database

from .agent_flows import etl_flow
from .conftest import base_url, screenshot

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.timeout(120), pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def auth_server() -> Iterator[tuple[LiveServer, str]]:
    """A live server with auth on, and an admin key made on the server's side."""
    with temporary_database("sqlite") as db:
        with db.session(write=True) as session:
            _row, key = api_keys.create(session, "ui-test", Role.ADMIN)
        settings = ServerSettings(database_url=db.url, auth=True)
        with LiveServer(create_app(settings, db=db, migrate=False)) as server:
            yield server, key


def test_log_in_with_a_key_and_every_request_carries_it(
    page: Any, auth_server: tuple[LiveServer, str]
) -> None:
    server, key = auth_server
    root = base_url(server)
    page.goto(root + "/agents")
    page.wait_for_url(re.compile(r"/login\?next=%2Fagents$"))  # no key yet
    screenshot(page, "login")
    page.get_by_label("API key").fill("not-a-key")
    page.get_by_role("button", name="Log in").click()
    error = page.locator("#api-key-error")
    expect(error).to_contain_text("does not accept this key")
    assert page.get_by_label("API key").get_attribute("aria-invalid") == "true"

    sent: list[str | None] = []
    page.on(
        "request",
        lambda r: sent.append(r.headers.get("authorization")) if "/api/v1/" in r.url else None,
    )
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(root + "/agents")  # back where the user was going
    expect(page.locator("#agents")).to_contain_text("No agent has registered")
    assert sent and all(h == f"Bearer {key}" for h in sent)
    page.get_by_role("link", name="Dashboard", exact=True).click()
    page.wait_for_selector("main[data-ready='true']")
    screenshot(page, "dashboard-logged-in")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    assert page.evaluate("localStorage.getItem('weir.apiKey')") is None


def test_the_link_weir_up_prints_logs_the_browser_in(
    page: Any, auth_server: tuple[LiveServer, str]
) -> None:
    server, key = auth_server
    root = base_url(server)
    page.goto(root + "/login#key=not-a-key")
    expect(page.locator("#api-key-error")).to_contain_text("does not accept this key")
    assert page.evaluate("localStorage.getItem('weir.apiKey')") is None
    assert "#" not in page.url  # the key never stays in the address bar or history

    page.goto(root + "/login#key=" + key)
    page.wait_for_url(root + "/")
    page.wait_for_selector("main[data-ready='true']")
    assert page.evaluate("localStorage.getItem('weir.apiKey')") == key
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_revoked_key_sends_the_user_back_to_log_in(
    page: Any, auth_server: tuple[LiveServer, str]
) -> None:
    server, _key = auth_server
    root = base_url(server)
    page.goto(root + "/login")
    page.evaluate("localStorage.setItem('weir.apiKey', 'revoked-or-wrong')")
    page.goto(root + "/flows")
    page.wait_for_url(re.compile(r"/login\?next=%2Fflows$"))


def test_a_read_only_key_sees_the_servers_refusal_to_write(
    page: Any, auth_server: tuple[LiveServer, str]
) -> None:
    server, admin = auth_server
    with Client(server.url, admin) as client:
        flow = client.register_flow(etl_flow().serialize()).flow
        reader = client.create_api_key("reader", role="read_only").key
    root = base_url(server)
    page.goto(root + "/login")
    page.get_by_label("API key").fill(reader)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(root + "/")
    page.goto(f"{root}/flows/{flow.id}")
    page.wait_for_selector("#dag[data-ready='true']")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#form-error")).to_contain_text("may only read")
    screenshot(page, "flow-read-only")


def test_an_unknown_run_says_so(page: Any, auth_server: tuple[LiveServer, str]) -> None:
    server, admin = auth_server
    root = base_url(server)
    page.goto(root + "/login")
    page.evaluate(f"localStorage.setItem('weir.apiKey', '{admin}')")
    response = page.goto(f"{root}/flow-runs/00000000-0000-0000-0000-000000000000")
    assert response.status == 404
    expect(page.locator("#not-found")).to_contain_text("There is no flow run with id")


@pytest.mark.parametrize("target", ["//elsewhere.invalid/x", "/\\elsewhere.invalid/x"])
def test_logging_in_never_leaves_the_server(
    page: Any, auth_server: tuple[LiveServer, str], target: str
) -> None:
    server, admin = auth_server
    root = base_url(server)
    page.goto(f"{root}/login?next={target}")
    page.get_by_label("API key").fill(admin)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/"))
    assert page.url.startswith(root)
