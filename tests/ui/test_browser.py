"""The web UI in Debian's chromium against a live server: every page, a run started from
the Run form going live to Success, logs, cancelling, the phone layout and the keyboard.

Runs are driven by ``ScriptedAgent`` (see conftest), over the real REST API.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest

from weir import Flow
from weir.client import Client
from weir.schedules import IntervalSchedule
from weir.server.testing import LiveServer

from .conftest import ScriptedAgent, base_url, etl_flow, screenshot, slow, slow_flow

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Iterator[Client]:
    with Client(live_server.url) as client:
        yield client


@pytest.fixture(scope="module")
def agent(live_server: LiveServer) -> Iterator[ScriptedAgent]:
    with ScriptedAgent(live_server.url) as agent:
        yield agent
    assert not agent.errors, agent.errors


@pytest.fixture(scope="module")
def flows(client: Client) -> dict[str, Any]:
    """The flows the tests use, registered once."""
    schedule = IntervalSchedule(
        start_date=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc),
        interval=datetime.timedelta(hours=1),
    )
    with Flow("ui-nightly", schedule=schedule) as scheduled:
        slow()
    return {
        "etl": client.register_flow(etl_flow().serialize()).flow,
        "slow": client.register_flow(slow_flow().serialize()).flow,
        "nightly": client.register_flow(scheduled.serialize()).flow,
    }


def test_dashboard_shows_runs_and_agents(
    page: Any, live_server: LiveServer, agent: ScriptedAgent, flows: dict[str, Any], client: Client
) -> None:
    done = client.create_flow_run(flows["etl"].id, parameters={"n": 2})
    client.wait_for_flow_run(done.id, timeout=30)
    page.goto(base_url(live_server) + "/")
    page.wait_for_selector("main[data-ready='true']")
    assert page.locator("h1").inner_text() == "Dashboard"
    page.get_by_text("scripted").first.wait_for()
    page.locator("#state-totals [data-state='Success']").wait_for()
    assert "online" in page.locator("#agents").inner_text()
    screenshot(page, "dashboard")
