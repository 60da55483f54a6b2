"""The operator's pages in Debian's chromium against a live server and a real agent: the
runs page and its URL filters, a flow's history grid, a failed run saying why, the task
runs table, mapped children with their logs, the timeline, logs as a download, stopped
agents, times with their zone and the not-found page."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from weir import Flow
from weir.client import Client
from weir.server.testing import LiveServer
from weir.utilities.waiting import wait_until

from . import agent_flows
from .conftest import AgentProcess, base_url, register_with_storage, screenshot

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = pytest.mark.timeout(120)

#: Runs scheduled this far ahead are never due, so no agent claims them.
FAR = 4_000_000_000.0


@pytest.fixture(scope="module")
def failed_run(client: Client, agent: AgentProcess) -> Any:
    """A run of the mapped fetch flow, run by the agent: two of its 8 children fail."""
    flow = register_with_storage(client, agent_flows.fetch_all)
    run = client.create_flow_run(flow.id)
    done = client.wait_for_flow_run(run.id, timeout=60)
    assert done.state.type.value == "Failed", agent.output()
    return done


def _rows(page: Any) -> Any:
    return page.locator("#runs tbody tr")


def test_runs_page_filters_live_in_the_url_and_pages_by_key(
    page: Any, live_server: LiveServer, client: Client
) -> None:
    with Flow("ui-runs-page") as listed:
        agent_flows.tick(0)
    with Flow("ui-runs-other") as other:
        agent_flows.tick(0)
    flow = client.register_flow(listed.serialize()).flow
    other_flow = client.register_flow(other.serialize()).flow
    runs = [
        client.create_flow_run(
            flow.id, scheduled_start_time=FAR, labels=["gpu"] if i % 10 == 0 else ["cpu"]
        )
        for i in range(55)
    ]
    client.create_flow_run(other_flow.id, scheduled_start_time=FAR, name="other-special")
    for run in runs[:2]:
        client.set_flow_run_state(run.id, {"type": "Failed", "message": "no"}, run.version)

    root = base_url(live_server)
    page.goto(f"{root}/flow-runs?flow=ui-runs-page")
    page.wait_for_selector("main[data-ready='true']")
    expect(page.locator("nav a[aria-current='page']")).to_have_text("Runs")
    expect(_rows(page)).to_have_count(50)
    # Newest first: the last run made is the first row.
    expect(_rows(page).first).to_contain_text(runs[-1].name)
    expect(page.locator("#f-flow")).to_have_value("ui-runs-page")
    page.click("#older")
    page.wait_for_url(re.compile(r"before="))
    expect(_rows(page)).to_have_count(5)
    expect(_rows(page).last).to_contain_text(runs[0].name)
    expect(page.locator("#older")).to_be_hidden()
    page.click("#newer")
    page.wait_for_url(re.compile(r"after="))
    expect(_rows(page)).to_have_count(50)
    expect(_rows(page).first).to_contain_text(runs[-1].name)

    # A shared link shows the same view: failed runs of the flow.
    page.goto(f"{root}/flow-runs?state=Failed&flow=ui-runs-page")
    expect(_rows(page)).to_have_count(2)
    expect(page.locator("#runs [data-state='Failed']")).to_have_count(2)
    expect(page.locator("#f-state")).to_have_value("Failed")
    screenshot(page, "runs-page-failed")

    # The form writes its filters into the URL.
    page.goto(f"{root}/flow-runs")
    page.wait_for_selector("main[data-ready='true']")
    page.fill("#f-q", "SPECIAL")
    page.click("#run-filters button[type=submit]")
    page.wait_for_url(re.compile(r"q=SPECIAL"))
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("other-special")
    page.goto(f"{root}/flow-runs")
    page.wait_for_selector("main[data-ready='true']")
    page.select_option("#f-flow", "ui-runs-page")
    page.fill("#f-label", "gpu")
    page.click("#run-filters button[type=submit]")
    page.wait_for_url(re.compile(r"label=gpu"))
    expect(_rows(page)).to_have_count(6)


def test_times_show_their_zone(page: Any, live_server: LiveServer, client: Client) -> None:
    with Flow("ui-zone") as zoned:
        agent_flows.tick(0)
    client.create_flow_run(
        client.register_flow(zoned.serialize()).flow.id, scheduled_start_time=FAR
    )
    page.goto(f"{base_url(live_server)}/flow-runs?flow=ui-zone")
    page.wait_for_selector("main[data-ready='true']")
    zone = page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    expect(page.locator("#zone-hint")).to_contain_text(zone)
    created = page.locator("#runs tbody tr td[data-label='Created'] time").inner_text()
    assert re.search(r"(UTC|GMT|[A-Z]{3,4})", created), created


def test_a_failed_run_says_why_before_the_graph(
    page: Any, live_server: LiveServer, failed_run: Any
) -> None:
    page.goto(f"{base_url(live_server)}/flow-runs/{failed_run.id}")
    page.wait_for_selector("#dag[data-ready='true']")
    box = page.locator("#failures")
    expect(box).to_be_visible()
    expect(box).to_contain_text("fetch[3]")
    expect(box).to_contain_text("source 3 answered 503")  # the FAIL signal's message
    expect(box).to_contain_text("row 5 has no date")  # the exception's own line
    assert box.bounding_box()["y"] < page.locator("#dag").bounding_box()["y"]
    # The graph's nodes say they can be clicked.
    expect(page.locator("#dag-hint")).to_contain_text("Click a task")
    node = page.locator("#dag g.node").first
    assert node.evaluate("n => getComputedStyle(n).cursor") == "pointer"
    screenshot(page, "failed-run")


def test_mapped_children_filter_by_state_and_show_their_logs(
    page: Any, live_server: LiveServer, failed_run: Any
) -> None:
    page.goto(f"{base_url(live_server)}/flow-runs/{failed_run.id}?task=fetch-1")
    panel = page.locator("#task-panel")
    expect(panel).to_be_visible()
    children = page.locator("#task-children tbody tr")
    expect(children).to_have_count(8)
    # Each child's name (its task_run_name) in a column of its own.
    expect(page.locator("#task-children th").nth(1)).to_have_text("Name")
    expect(children.nth(3)).to_contain_text("source-3")
    page.click("#task-children button[data-child-state='Failed']")
    expect(children).to_have_count(2)
    expect(page.locator("#task-children button[data-child-state='Failed']")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.locator("#task-children button[data-child-logs][data-index='3']").click()
    logs = page.locator("#child-logs")
    expect(logs).to_contain_text("Logs of fetch[3]")
    expect(logs).to_contain_text("fetch: source 3.")
    expect(logs).not_to_contain_text("source 5.")
    screenshot(page, "mapped-children")


def test_task_runs_table_sorts(page: Any, live_server: LiveServer, failed_run: Any) -> None:
    page.goto(f"{base_url(live_server)}/flow-runs/{failed_run.id}")
    rows = page.locator("#taskruns tbody tr")
    expect(page.locator("#taskruns-count")).to_contain_text("task runs")
    # A named child shows its name beside its task's.
    expect(page.locator("#taskruns .task-run-name").first).to_have_text("source-0")
    count = rows.count()
    assert count >= 10  # the mapped task, its 8 children, load (and the parameter)
    expect(page.locator("#taskruns th").nth(0)).to_have_attribute("aria-sort", "ascending")

    def states() -> list[str]:
        return [
            s or ""
            for s in page.locator("#taskruns tbody [data-state]").evaluate_all(
                "els => els.map(e => e.dataset.state)"
            )
        ]

    page.click("#taskruns button[data-sort='state']")
    expect(page.locator("#taskruns th[aria-sort='ascending']")).to_contain_text("State")
    assert states() == sorted(states())
    page.click("#taskruns button[data-sort='state']")
    expect(page.locator("#taskruns th[aria-sort='descending']")).to_contain_text("State")
    assert states() == sorted(states(), reverse=True)
    page.click("#taskruns button[data-sort='duration']")
    expect(page.locator("#taskruns th[aria-sort='ascending']")).to_contain_text("Duration")
    headers = page.locator("#taskruns thead th").all_inner_texts()
    assert [h.split(" ")[0] for h in headers] == [
        "Task",
        "Map",
        "State",
        "Started",
        "Duration",
        "Attempts",
    ]
    expect(rows).to_have_count(count)


def test_timeline_starts_at_the_runs_work_without_overlapping_labels(
    page: Any, live_server: LiveServer, failed_run: Any
) -> None:
    page.goto(f"{base_url(live_server)}/flow-runs/{failed_run.id}")
    page.wait_for_selector("#timeline svg")
    labels = page.locator("#timeline svg .axis-label")
    expect(labels.first).to_have_text(re.compile(r"^\+0 ms$"))
    # Created (and scheduled) came before the work: listed with a negative offset.
    created = page.locator("#timeline tbody tr", has_text="created")
    expect(created).to_contain_text("(−")
    claimed = page.locator("#timeline tbody tr", has_text="claimed")
    expect(claimed.locator("dl.details")).to_be_visible()
    boxes = [
        b
        for b in page.locator("#timeline svg .event-label").evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect();"
            " return [r.left, r.top, r.right, r.bottom]; })"
        )
    ]
    assert boxes, "no lifecycle label was drawn"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, f"lifecycle labels overlap: {a} {b}"
    screenshot(page, "timeline")


def test_logs_download_as_text_with_the_map_index(
    page: Any, live_server: LiveServer, failed_run: Any, tmp_path: Any
) -> None:
    page.goto(f"{base_url(live_server)}/flow-runs/{failed_run.id}")
    line = page.locator("#logs .log", has_text="fetch: source 3.")
    expect(line.locator(".src")).to_have_text("fetch[3]")
    with page.expect_download() as info:
        page.click("#log-download")
    download = info.value
    assert download.suggested_filename == f"weir-run-{failed_run.id}.log"
    path = tmp_path / "run.log"
    download.save_as(path)
    text = path.read_text()
    assert re.search(r"ERROR +fetch-1\[3\] ", text) or re.search(r"fetch-1\[3\] fetch", text)
    assert "fetch: source 3." in text
    assert "+00:00" in text  # times in UTC, said so


def test_flow_history_grid_links_each_cell_to_the_task_run(
    page: Any, live_server: LiveServer, failed_run: Any
) -> None:
    page.goto(f"{base_url(live_server)}/flows/{failed_run.flow_id}")
    grid = page.locator("#history-grid")
    expect(grid.locator("tbody tr")).to_have_count(2)  # fetch and load (not the parameter)
    failed = grid.locator("tbody tr", has_text="fetch").locator("a.cell")
    expect(failed.last).to_have_attribute("data-state", "Mapped")
    trigger = grid.locator("tbody tr", has_text="load").locator("a.cell").last
    expect(trigger).to_have_attribute("data-state", "TriggerFailed")
    screenshot(page, "flow-history-grid")
    trigger.click()
    page.wait_for_url(re.compile(rf"/flow-runs/{failed_run.id}\?task=load-1"))
    expect(page.locator("#task-panel")).to_be_visible()
    expect(page.locator("#task-h")).to_contain_text("load")


def test_a_paused_run_is_resumed_from_its_page(
    page: Any, live_server: LiveServer, client: Client, agent: AgentProcess
) -> None:
    flow = register_with_storage(client, agent_flows.approval)
    run = client.create_flow_run(flow.id)
    paused = wait_until(
        lambda: (r := client.get_flow_run(run.id)).state.type.value == "Paused" and r,
        timeout=60,
    )
    assert "approve waits for approval" in paused.state.message, agent.output()
    page.goto(f"{base_url(live_server)}/flow-runs/{run.id}")
    button = page.locator("#resume")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#run-state")).to_contain_text("Success", timeout=60_000)
    expect(button).to_be_hidden()
    assert client.get_flow_run(run.id).state.type.value == "Success"


def test_a_stopped_agent_shows_stopped_and_can_be_removed(
    page: Any, live_server: LiveServer, client: Client, tmp_path: Any
) -> None:
    other = AgentProcess(live_server.url, tmp_path, name="ui-agent-stopping")
    try:
        other.wait_registered(client)
    finally:
        other.stop()
    page.goto(base_url(live_server) + "/agents")
    row = page.locator("#agents tbody tr", has_text="ui-agent-stopping")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "stopped")
    page.on("dialog", lambda dialog: dialog.accept())
    row.locator("button[data-remove]").click()
    expect(row).to_have_count(0)
    assert not [a for a in client.list_agents() if a.name == "ui-agent-stopping"]


def test_an_unknown_run_or_flow_is_a_plain_not_found_page(
    page: Any, live_server: LiveServer
) -> None:
    root = base_url(live_server)
    for path in (f"/flow-runs/{uuid.uuid4()}", "/flow-runs/nonsense", f"/flows/{uuid.uuid4()}"):
        response = page.goto(root + path)
        assert response.status == 404, path
        assert response.headers["content-type"].startswith("text/html")
        expect(page.locator("h1")).to_have_text("Not found")
        expect(page.locator("#not-found")).to_contain_text(path.rsplit("/", 1)[1])
