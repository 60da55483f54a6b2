"""flow.visualize()'s HTML page opened in Debian's chromium: it draws with the UI's own
graph code (dag.js), offline, with the run page's layout, colours and counts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from weir import Flow, Parameter, task

from .conftest import screenshot

pytestmark = pytest.mark.timeout(120)


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def inc(x: int) -> int:
    if x == 3:
        raise ValueError("three is unlucky")
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def add(a: int, b: int) -> int:
    return a + b


def mapped_flow() -> Flow:
    """n → numbers ⇢ inc (mapped, one child fails) → total; n → add (keys a and b)."""
    with Flow("mapped") as flow:
        n = Parameter("n", default=5)
        total(inc.map(numbers(n)))
        add(n, n)
    return flow


def open_page(page: Any, path: Path) -> None:
    page.goto(path.as_uri())
    page.wait_for_selector("#dag[data-ready='true']")


def node_y(page: Any, slug: str) -> float:
    transform = page.locator(f"#dag g.node[data-slug='{slug}']").get_attribute("transform")
    return float(re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", transform).group(2))


def test_a_finished_run_is_drawn_coloured_and_counted(page: Any, tmp_path: Path) -> None:
    flow = mapped_flow()
    out = tmp_path / "mapped.html"
    flow.visualize(flow.run(), filename=str(out))
    open_page(page, out)
    assert page.title() == "Flow: mapped (Failed)"
    nodes = page.locator("#dag g.node")
    assert nodes.count() == len(flow.tasks) == 5
    states = {
        nodes.nth(i).get_attribute("data-slug"): nodes.nth(i).get_attribute("data-state")
        for i in range(nodes.count())
    }
    # A mapped task shows how its children ended: one failed.
    assert states == {
        "n": "Success",
        "numbers-1": "Success",
        "inc-1": "Failed",
        "total-1": "TriggerFailed",
        "add-1": "Success",
    }
    inc_text = page.locator("#dag g.node[data-slug='inc-1']").text_content()
    assert "5" in inc_text and "4" in inc_text  # 5 children: 4 Success, 1 Failed
    # Colour comes from the palette and is never the only cue: the state is in words.
    failed = page.locator("#dag g.node[data-slug='total-1']")
    assert "TriggerFailed" in failed.text_content()
    ink = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--st-fail')")
    assert failed.evaluate("g => getComputedStyle(g).color") == page.evaluate(
        "c => { const s = document.createElement('span'); s.style.color = c;"
        " document.body.append(s); const v = getComputedStyle(s).color; s.remove(); return v; }",
        ink.strip(),
    )
    totals = page.locator("#task-totals .badge")
    assert {totals.nth(i).get_attribute("data-state") for i in range(totals.count())} == {
        "Success",
        "Failed",
        "TriggerFailed",
    }
    screenshot(page, "visualize-run")


def test_layers_follow_longest_paths_and_edges_say_what_they_carry(
    page: Any, tmp_path: Path
) -> None:
    flow = mapped_flow()
    out = tmp_path / "plain.html"
    flow.visualize(filename=str(out))
    open_page(page, out)
    y = {slug: node_y(page, slug) for slug in flow.slugs.values()}
    assert y["n"] < y["numbers-1"] < y["inc-1"] < y["total-1"]
    assert y["add-1"] == y["numbers-1"]
    assert page.locator("#dag g.node[data-state='']").count() == 5  # no states given
    assert page.locator("#dag path.edge").count() == 4  # n → add twice is one line
    assert page.locator("#dag path.edge.mapped").count() == 1
    assert page.locator("#dag path.edge[data-keys='a, b']").count() == 1
    assert page.locator("#dag g.node.param").count() == 1


def test_hostile_names_are_shown_as_text(page: Any, tmp_path: Path) -> None:
    flow = Flow("hostile")
    flow.add_task(add.copy(name='</script><img src=x onerror="alert(1)">'))
    out = tmp_path / "hostile.html"
    flow.visualize(filename=str(out))
    open_page(page, out)
    assert page.locator("img").count() == 0
    assert "</script><img" in page.locator("#dag g.node title").text_content()
