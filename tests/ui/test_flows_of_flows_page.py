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


@task
def inc(x: int) -> int:
    return x + 1


def test_a_mapped_node_shows_children_done_of_those_it_will_have(live_server, page):
    import time

    with Flow("mapped-progress") as flow:
        inc.map(list(range(200)))
    with Client(live_server.url) as client:
        flow_id = register_with_storage(client, flow).id
        run = client.create_flow_run(flow_id)
        slug = next(
            t["slug"]
            for t in client.get_flow(flow_id).serialized_flow["tasks"]
            if t["name"] == "inc"
        )
        now = time.time()
        # The run mapped to 200 children; 26 have finished, 3 run, the rest do not exist yet.
        client.write_trace_events(
            [
                {
                    "flow_run_id": run.id,
                    "kind": "task_mapped",
                    "timestamp": now,
                    "task_slug": slug,
                    "data": {"children": 200},
                }
            ]
        )
        items = [
            {
                "flow_run_id": str(run.id),
                "task_slug": slug,
                "map_index": k,
                "state": {"type": "Success" if k < 26 else "Running", "timestamp": now},
            }
            for k in range(29)
        ]
        client.request("POST", "task_runs/batch", json=items)
    page.goto(f"{base_url(live_server)}/flow-runs/{run.id}")
    node = page.locator(f'[data-slug="{slug}"]')
    node.wait_for()
    page.wait_for_function(
        "slug => document.querySelector(`[data-slug=\"${slug}\"]`).textContent.includes('26/200')",
        arg=slug,
    )
    assert "⋔ 26/200" in node.text_content()
