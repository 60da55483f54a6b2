"""The web UI in Debian's chromium against a live server: every page, a run started from
the Run form going live to Success, logs, cancelling, the phone layout and the keyboard.

Runs are run for real: a ``weir agent start`` process claims them and starts
``weir execute flow-run`` for each, which loads the flow from agent_flows.py.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest

from weir import Flow
from weir.client import Client
from weir.schedules import IntervalSchedule
from weir.server.testing import LiveServer

from . import agent_flows
from .conftest import AgentProcess, base_url, register_with_storage, screenshot

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.timeout(120), pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def flows(client: Client) -> dict[str, Any]:
    """The flows the tests use, registered once."""
    schedule = IntervalSchedule(
        start_date=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc),
        interval=datetime.timedelta(hours=1),
    )
    with Flow("ui-nightly", schedule=schedule) as scheduled:
        agent_flows.tick(0)
    return {
        "etl": register_with_storage(client, agent_flows.etl),
        "slow": register_with_storage(client, agent_flows.slow),
        "nightly": client.register_flow(scheduled.serialize()).flow,
    }


def test_dashboard_shows_runs_and_agents(
    page: Any, live_server: LiveServer, agent: AgentProcess, flows: dict[str, Any], client: Client
) -> None:
    done = client.create_flow_run(flows["etl"].id, parameters={"n": 2})
    client.wait_for_flow_run(done.id, timeout=30)
    page.goto(base_url(live_server) + "/")
    page.wait_for_selector("main[data-ready='true']")
    assert page.locator("h1").inner_text() == "Dashboard"
    page.get_by_text(agent.name).first.wait_for()
    page.locator("#state-totals [data-state='Success']").wait_for()
    assert "online" in page.locator("#agents").inner_text()
    screenshot(page, "dashboard")


def test_run_form_starts_a_run_that_goes_live_to_success(
    page: Any, live_server: LiveServer, agent: AgentProcess, flows: dict[str, Any]
) -> None:
    flow = flows["etl"]
    page.goto(f"{base_url(live_server)}/flows/{flow.id}")
    page.wait_for_selector("#dag[data-ready='true']")
    n_field = page.get_by_label("n", exact=True)
    assert n_field.input_value() == "3"  # the default, filled in
    assert page.get_by_label("greeting").input_value() == "hello"
    screenshot(page, "flow")
    n_field.fill("5")
    page.get_by_role("button", name="Run").click()
    page.wait_for_url(re.compile(r"/flow-runs/[0-9a-f-]+$"))
    url = page.url
    # No reload from here on: the page polls the API and redraws.
    page.wait_for_selector("#dag[data-run-state='Running'], #dag[data-run-state='Success']")
    page.wait_for_selector("#dag[data-run-state='Success']", timeout=30_000)
    assert page.url == url
    assert "Success" in page.locator("#run-state").inner_text()
    slugs = {t["name"]: t["slug"] for t in flow.serialized_flow["tasks"]}
    mapped = page.locator(f"g.node[data-slug='{slugs['transform']}']")
    assert mapped.get_attribute("data-state") == "Success"
    assert "⋔ 5" in mapped.text_content()  # ONE node for the 5 children, with their count
    load = page.locator(f"g.node[data-slug='{slugs['load']}']")
    assert load.get_attribute("data-state") == "Success"
    assert "Success" in load.text_content()  # the state's name, not only its colour
    page.get_by_text("load: done with n=5.").wait_for()  # a task's log line, parameter changed
    page.locator("#parameters").get_by_text("5").first.wait_for()
    page.locator("#timeline table").get_by_text("flow_loaded").wait_for()
    page.locator("#history").get_by_text("Running").first.wait_for()
    screenshot(page, "flow-run-success")
    mapped.click()  # the mapped task's details: its children, counted and listed
    expect(page.locator("#task-detail")).to_contain_text("5 of 5 children")
    expect(page.locator("#task-detail table tbody tr")).to_have_count(5)
    screenshot(page, "flow-run-task")
    page.locator(f"g.node[data-slug='{slugs['extract']}']").click()  # its log lines alone
    expect(page.locator("#task-h")).to_have_text("Task extract")
    expect(page.locator("#logs")).to_contain_text("extract: made 5 items.")
    expect(page.get_by_text("load: done with n=5.")).to_be_hidden()
    page.get_by_role("button", name="Close").click()
    expect(page.locator("#task-panel")).to_be_hidden()
    page.select_option("#log-task", slugs["load"])  # reachable by keyboard too
    expect(page.locator("#task-h")).to_have_text("Task load")
    page.select_option("#log-task", "")
    page.select_option("#log-level", "30")  # Warning and above: the info lines go
    expect(page.locator("#logs")).not_to_contain_text("done with")


def test_run_form_checks_json_types_by_the_field(
    page: Any, live_server: LiveServer, flows: dict[str, Any]
) -> None:
    page.goto(f"{base_url(live_server)}/flows/{flows['etl'].id}")
    page.wait_for_selector("#dag[data-ready='true']")
    page.get_by_label("n", exact=True).fill("2.5")
    page.get_by_role("button", name="Run").click()
    error = page.locator("#param-0-error")
    error.wait_for()
    assert "integer" in error.inner_text()
    assert page.get_by_label("n", exact=True).get_attribute("aria-invalid") == "true"
    page.get_by_label("n", exact=True).fill("[1")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#param-0-error")).to_contain_text("JSON")
    assert "/flows/" in page.url  # nothing was sent


def test_run_form_shows_the_servers_422_by_the_field(
    page: Any, live_server: LiveServer, flows: dict[str, Any]
) -> None:
    page.goto(f"{base_url(live_server)}/flows/{flows['etl'].id}")
    page.wait_for_selector("#dag[data-ready='true']")
    # The server refuses names over 200 characters; lift the input's own limit to see it.
    page.evaluate("document.getElementById('run-name').removeAttribute('maxlength')")
    page.get_by_label("Run name").fill("x" * 201)
    page.get_by_role("button", name="Run").click()
    error = page.locator("#run-name-error")
    error.wait_for()
    assert "200" in error.inner_text()
    assert page.get_by_label("Run name").get_attribute("aria-invalid") == "true"
    screenshot(page, "flow-run-form-error")


def test_cancel_a_running_run(
    page: Any, live_server: LiveServer, agent: AgentProcess, flows: dict[str, Any], client: Client
) -> None:
    run = client.create_flow_run(flows["slow"].id)
    page.goto(f"{base_url(live_server)}/flow-runs/{run.id}")
    page.wait_for_selector("#dag[data-run-state='Running']", timeout=30_000)
    page.locator("g.node[data-state='Success']").first.wait_for()  # steps are finishing
    page.get_by_text("slow: working until told to stop.").wait_for()
    screenshot(page, "flow-run-running")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("#dag[data-run-state='Cancelled']", timeout=30_000)
    assert "Cancelled" in page.locator("#run-state").inner_text()
    assert page.get_by_role("button", name="Cancel").is_disabled()
    expect(page.locator("#history")).to_contain_text("Cancelling")
    done = page.locator("g.node[data-state='Success']").count()
    assert done < len(flows["slow"].serialized_flow["tasks"])  # it stopped early
    screenshot(page, "flow-run-cancelled")
    # Restart POSTs /flow_runs/{id}/restart: the run is scheduled again, or the server's
    # refusal is shown.
    page.get_by_role("button", name="Restart").click()
    answered = page.locator("#action-error:not([hidden]), #dag:not([data-run-state='Cancelled'])")
    expect(answered.first).to_be_attached()
    screenshot(page, "flow-run-restart")
    if client.get_flow_run(run.id).state.type.value not in ("Cancelled", "Cancelling"):
        client.cancel_flow_run(run.id)  # restarted: stop it again, nobody waits for it


def test_flows_list_toggles_a_schedule(
    page: Any, live_server: LiveServer, flows: dict[str, Any], client: Client
) -> None:
    page.goto(base_url(live_server) + "/flows")
    row = page.locator("tr", has_text="ui-nightly")
    row.wait_for()
    assert page.locator("tr", has_text="ui-etl").count() >= 1
    toggle = row.get_by_role("checkbox")
    assert toggle.is_checked()
    screenshot(page, "flows")
    toggle.click()
    expect(row.get_by_role("checkbox")).not_to_be_checked()
    expect(row.get_by_role("checkbox")).to_be_enabled()
    assert client.get_flow(flows["nightly"].id).schedule_active is False
    assert page.locator("tr", has_text="ui-etl").get_by_role("checkbox").count() == 0


def test_agents_page(page: Any, live_server: LiveServer, agent: AgentProcess) -> None:
    page.goto(base_url(live_server) + "/agents")
    row = page.locator("tr", has_text=agent.name)
    row.wait_for()
    assert "online" in row.inner_text()
    screenshot(page, "agents")


def test_keyboard_reaches_the_navigation_and_focus_is_visible(
    page: Any, live_server: LiveServer
) -> None:
    page.goto(base_url(live_server) + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(3):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/flows"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/flows$"))


def test_phone_layout_has_no_sideways_scroll(
    browser: Any, live_server: LiveServer, client: Client, flows: dict[str, Any]
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        runs = client.list_flow_runs(flow_id=[str(flows["etl"].id)], limit=1)
        for name, path in [("dashboard", "/"), ("flow-run", f"/flow-runs/{runs[0].id}")]:
            page.goto(base_url(live_server) + path)
            page.wait_for_selector("main[data-ready='true'], #dag[data-ready='true']")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"The {name} page is {width}px wide on a 390px phone."
            screenshot(page, f"phone-{name}")
    finally:
        context.close()


def test_a_big_graph_keeps_only_the_visible_part_in_the_page(
    page: Any, live_server: LiveServer, client: Client
) -> None:
    with Flow("ui-wide") as wide:
        for i in range(600):
            agent_flows.tick(i)
    flow = client.register_flow(wide.serialize()).flow
    page.goto(f"{base_url(live_server)}/flows/{flow.id}")
    page.wait_for_selector("#dag[data-ready='true']")
    last = flow.serialized_flow["tasks"][-1]["slug"]
    drawn = page.locator("#dag g.node").count()
    assert 0 < drawn < 600
    assert page.locator(f"#dag g.node[data-slug='{last}']").count() == 0
    page.locator("#dag").evaluate("box => { box.scrollTop = box.scrollHeight; }")
    page.locator(f"#dag g.node[data-slug='{last}']").wait_for()
    assert page.locator("#dag g.node").count() < 600


def test_the_flow_page_links_every_version(
    page: Any, live_server: LiveServer, client: Client
) -> None:
    first = client.register_flow(agent_flows.etl_flow().serialize(), project="versions").flow
    changed = agent_flows.etl_flow().serialize()
    changed["tasks"][0]["tags"] = ["v2"]
    second = client.register_flow(changed, project="versions").flow
    page.goto(f"{base_url(live_server)}/flows/{first.id}")
    versions = page.locator("#versions")
    expect(versions).to_contain_text("v1")
    versions.get_by_role("link", name="v2").click()
    page.wait_for_url(re.compile(f"/flows/{second.id}$"))
    expect(page.locator("#versions [aria-current='page']")).to_have_text("v2")
