"""A flow of flows in the browser: a child links to its parent, a parent lists its children."""

from __future__ import annotations

from weir import Flow, task
from weir.client import Client

from .conftest import base_url, register_with_storage


@task
def noop() -> None:
    return None


def test_parent_and_children_link_both_ways(live_server, page):
    with Flow("parent-page") as parent_flow:
        noop()
    with Flow("child-page") as child_flow:
        noop()
    with Client(live_server.url) as client:
        parent_id = register_with_storage(client, parent_flow).id
        child_id = register_with_storage(client, child_flow).id
        parent = client.create_flow_run(parent_id)
        children = [
            client.create_flow_run(child_id, name=f"child-{n}", parent_flow_run_id=parent.id)
            for n in range(2)
        ]
    root = base_url(live_server)
    page.goto(f"{root}/flow-runs/{parent.id}")
    started = page.locator("#children")
    started.wait_for(state="visible")
    for child in children:
        link = started.locator(f'a[href="/flow-runs/{child.id}"]')
        assert link.inner_text() == child.name
    assert page.locator("#run-parent").is_hidden()

    started.locator(f'a[href="/flow-runs/{children[0].id}"]').click()
    back = page.locator("#run-parent")
    back.wait_for(state="visible")
    assert "Started by" in back.inner_text() and parent.name in back.inner_text()
    assert page.locator("#children").is_hidden()
    back.locator(f'a[href="/flow-runs/{parent.id}"]').click()
    page.locator("#children").wait_for(state="visible")
