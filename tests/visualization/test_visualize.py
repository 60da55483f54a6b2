"""flow.visualize(): Mermaid text and a standalone HTML page, with and without run states.

The page is drawn in a browser by the UI's dag.js: tests/ui/test_visualize_page.py
opens it in chromium; here its text and data are checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from weir import Flow, Parameter, task
from weir.engine.state import StateType
from weir.visualization import FORMATS
from weir.visualization.page import graph_data
from weir.visualization.palette import state_color, state_colors


@task
def inc(x: int) -> int:
    if x == 3:
        raise ValueError("three is unlucky")
    return x + 1


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def free(**kwargs: Any) -> int:
    return 1


def mapped_flow() -> Flow:
    """n → numbers ⇢ inc (mapped, one child fails) → total; n → add (twice, keys a and b)."""
    with Flow("mapped") as flow:
        n = Parameter("n", default=5)
        xs = numbers(n)
        ys = inc.map(xs)
        total(ys)
        add(n, n)
    return flow


def page_data(page: str) -> dict[str, Any]:
    """The graph and states a page carries (its JSON script)."""
    m = re.search(r'<script type="application/json" id="weir-graph">(.*?)</script>', page)
    assert m, "the page carries no graph"
    return json.loads(m.group(1))  # type: ignore[no-any-return]


def states_by_slug(page: str) -> dict[str, dict[str, Any]]:
    return {s["slug"]: s for s in page_data(page)["states"]}


# --- Mermaid ---------------------------------------------------------------------


class TestMermaid:
    def test_exact_text_of_a_tiny_flow(self) -> None:
        with Flow("tiny") as flow:
            x = Parameter("x", default=1)
            add(x, b=2)
        assert flow.visualize(format="mermaid") == (
            'flowchart TD\n    x(["x (Parameter)"])\n    add_1["add"]\n    x -->|a| add_1\n'
        )

    def test_every_task_and_edge_with_keys_and_mapping_marked(self) -> None:
        flow = mapped_flow()
        text = flow.visualize(format="mermaid")
        lines = text.splitlines()
        assert lines[0] == "flowchart TD"
        for name in ("numbers", "total", "add"):
            assert any(f'["{name}"]' in line for line in lines), name
        assert '    inc_1["inc (mapped)"]' in lines
        assert '    n(["n (Parameter)"])' in lines
        arrows = [line for line in lines if "->" in line]
        assert len(arrows) == len(flow.edge_list()) == 5
        assert "    numbers_1 -.->|x| inc_1" in lines  # the mapped edge is dotted
        assert "    inc_1 -->|xs| total_1" in lines
        assert "    n -->|a| add_1" in lines and "    n -->|b| add_1" in lines

    def test_horizontal_runs_left_to_right(self) -> None:
        """Prefect 1's ``horizontal=True``; the HTML page cannot, and says what can."""
        flow = mapped_flow()
        text = flow.visualize(format="mermaid", horizontal=True)
        assert text.startswith("flowchart LR\n")
        assert text.splitlines()[1:] == flow.visualize(format="mermaid").splitlines()[1:]
        with pytest.raises(ValueError, match="format='mermaid'"):
            flow.visualize(horizontal=True)

    def test_edge_without_key_has_no_label(self) -> None:
        flow = Flow("chain")
        a, b = free.copy(name="a"), free.copy(name="b")
        flow.chain(a, b)
        assert "    a_1 --> b_1" in flow.visualize(format="mermaid").splitlines()

    def test_ids_are_sanitized_unique_and_never_keywords(self) -> None:
        flow = Flow("odd names")
        for name in ("my task!", "my_task?", "3d", "é"):
            flow.add_task(free.copy(name=name))
        flow.add_task(Parameter("end"))  # a Parameter's slug is its bare name
        lines = flow.visualize(format="mermaid").splitlines()[1:]
        ids = [re.match(r"\s+(\w+)[\[(]", line).group(1) for line in lines]  # type: ignore[union-attr]
        assert len(set(ids)) == 5
        for node_id in ids:
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", node_id), node_id
        assert "t_end" in ids and "t_3d_1" in ids
        assert "my_task__1" in ids and "my_task__1_2" in ids

    def test_hostile_labels_are_escaped(self) -> None:
        flow = Flow("hostile")
        flow.add_task(free.copy(name='<script>&"|#`x'))
        line = flow.visualize(format="mermaid").splitlines()[1]
        label = line[line.index('["') + 2 : line.rindex('"]')]
        assert not set(label) & set('<>"|`&')
        assert label == "#60;script#62;#38;#34;#124;#35;#96;x"

    def test_states_give_classes_labels_and_mapped_counts(self) -> None:
        flow = mapped_flow()
        state = flow.run()
        lines = flow.visualize(state, format="mermaid").splitlines()
        assert '    n(["n (Parameter, Success)"])' in lines
        assert '    numbers_1["numbers (Success)"]' in lines
        assert '    inc_1["inc (Mapped: 4 Success, 1 Failed)"]' in lines
        assert '    total_1["total (TriggerFailed)"]' in lines
        defs = {line.split()[1]: line for line in lines if line.lstrip().startswith("classDef")}
        assert set(defs) == {"Success", "Mapped", "TriggerFailed"}
        ink, tint = state_color("TriggerFailed")
        assert f"fill:{tint},stroke:{ink},color:{ink}" in defs["TriggerFailed"]
        classes = {line.split()[2]: line.split()[1] for line in lines if " class " in line}
        assert classes["Success"].split(",") == ["n", "numbers_1", "add_1"]
        assert classes["Mapped"] == "inc_1" and classes["TriggerFailed"] == "total_1"

    def test_a_mapped_task_without_a_mapped_state_still_says_mapped(self) -> None:
        with Flow("upstream fails") as flow:
            ys = inc.map(numbers(Parameter("n")))
        state = flow.run(parameters={"n": "not a number"})
        assert state.result[ys].name == "TriggerFailed"
        assert '["inc (mapped, TriggerFailed)"]' in flow.visualize(state, format="mermaid")

    def test_a_mapped_state_with_no_children(self) -> None:
        with Flow("nothing to map") as flow:
            ys = inc.map(numbers(Parameter("n")))
        state = flow.run(parameters={"n": 0})
        assert state.result[ys].name == "Mapped"
        assert '["inc (Mapped: no children)"]' in flow.visualize(state, format="mermaid")


# --- the palette ---------------------------------------------------------------------


class TestPalette:
    def test_every_state_type_has_its_colours(self) -> None:
        colors = state_colors()
        for kind in StateType:
            ink, tint = colors[kind.value]
            assert re.fullmatch("#[0-9a-f]{6}", ink) and re.fullmatch("#[0-9a-f]{6}", tint)
            assert ink != tint
        assert colors["none"] == colors["Pending"]  # no state yet looks like waiting

    def test_families_share_colours_and_differ_from_each_other(self) -> None:
        assert state_color("Failed") == state_color("TriggerFailed") == state_color("TimedOut")
        assert state_color("Success") == state_color("Mapped")
        assert len({state_color(k) for k in ("Success", "Failed", "Running", "Retrying")}) == 4

    def test_a_state_type_the_palette_does_not_know_still_draws(self) -> None:
        assert state_color("Invented") == state_color("Invented")
        assert re.fullmatch("#[0-9a-f]{6}", state_color("Invented").ink)


# --- the HTML page ---------------------------------------------------------------------


class TestPage:
    def test_is_self_contained_and_carries_the_uis_graph_code(self) -> None:
        page = mapped_flow().visualize()
        assert page.startswith("<!doctype html>")
        assert "const WeirDag" in page and "const W = " in page  # dag.js and weir.js inlined
        assert "--st-ok:" in page  # palette.css inlined
        assert "<title>Flow: mapped</title>" in page
        # Nothing is fetched: no external script, stylesheet or image.
        assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet|<img", page)

    def test_carries_every_task_and_edge_marked(self) -> None:
        flow = mapped_flow()
        data = page_data(flow.visualize())["flow"]
        tasks = {t["slug"]: t for t in data["tasks"]}
        assert set(tasks) == set(flow.slugs.values())
        assert tasks["n"]["is_parameter"] and not tasks["numbers-1"]["is_parameter"]
        assert tasks["inc-1"]["mapped"] and not tasks["total-1"]["mapped"]
        edges = {(e["upstream"], e["downstream"], e["key"]): e["mapped"] for e in data["edges"]}
        assert len(edges) == len(flow.edge_list()) == 5
        assert edges[("numbers-1", "inc-1", "x")] is True
        assert edges[("n", "add-1", "a")] is False and ("n", "add-1", "b") in edges

    def test_hostile_names_cannot_break_out_of_the_page(self) -> None:
        flow = Flow("<b>hostile</b>")
        flow.add_task(free.copy(name='</script><script>alert(1)</script>&"'))
        page = flow.visualize()
        # The data, the state groups, weir.js, dag.js, the drawing: no other script ends.
        assert page.count("</script>") == 5
        assert "<b>" not in page and "&lt;b&gt;hostile&lt;/b&gt;" in page
        names = [t["name"] for t in page_data(page)["flow"]["tasks"]]
        assert names == ['</script><script>alert(1)</script>&"']

    def test_states_are_carried_as_the_run_page_sums_them_up(self) -> None:
        flow = mapped_flow()
        state = flow.run()
        page = flow.visualize(state)
        assert "<title>Flow: mapped (Failed)</title>" in page
        states = states_by_slug(page)
        assert states["numbers-1"]["state"] == "Success"
        assert states["total-1"]["state"] == "TriggerFailed"
        assert states["total-1"]["message"]
        assert states["inc-1"]["state"] == "Mapped"
        assert states["inc-1"]["children"] == 5
        assert states["inc-1"]["counts"] == {"Success": 4, "Failed": 1}

    def test_a_mapped_state_with_no_children(self) -> None:
        with Flow("nothing to map") as flow:
            ys = inc.map(numbers(Parameter("n")))
        state = flow.run(parameters={"n": 0})
        summary = states_by_slug(flow.visualize(state))[flow.slugs[ys]]
        assert summary["children"] == 0 and summary["counts"] == {}

    def test_a_state_without_task_states_draws_plainly(self) -> None:
        flow = mapped_flow()
        state = flow.run()
        state.result = ValueError("failed before any task ran")
        assert page_data(flow.visualize(state))["states"] == []

    def test_a_plain_mapping_of_task_states_works_too(self) -> None:
        flow = mapped_flow()
        states = flow.run().result
        page = flow.visualize(states)
        assert states_by_slug(page)["total-1"]["state"] == "TriggerFailed"
        assert "<title>Flow: mapped</title>" in page

    def test_graph_data_is_what_the_ui_draws(self) -> None:
        """The same keys the server's serialized flow gives dag.js."""
        flow = mapped_flow()
        served = flow.serialize()
        drawn = graph_data(flow)["flow"]
        for mine, theirs in zip(drawn["tasks"], served["tasks"], strict=False):
            assert {k: theirs[k] for k in mine} == mine
        assert sorted(map(str, drawn["edges"])) == sorted(
            str({k: e[k] for k in ("upstream", "downstream", "key", "mapped")})
            for e in served["edges"]
        )

    def test_big_layered_flow(self) -> None:
        flow = Flow("big")
        width, depth = 100, 20
        prev: list[Any] = []
        for layer in range(depth):
            cur = [free.copy(name=f"t{layer}_{j}") for j in range(width)]
            for j, t in enumerate(cur):
                flow.add_task(t)
                if prev:
                    flow.add_edge(prev[j], t, key="a")
                    flow.add_edge(prev[(j * 7 + 3) % width], t, key="b")
            prev = cur
        data = page_data(flow.visualize())["flow"]
        assert len(data["tasks"]) == width * depth == 2000
        assert len(data["edges"]) == len(flow.edge_list())
        assert flow.visualize(format="mermaid").count("-->") == len(flow.edge_list())


def test_an_empty_flow_draws_in_both_formats() -> None:
    flow = Flow("empty")
    assert flow.visualize(format="mermaid") == "flowchart TD\n"
    page = flow.visualize()
    assert page_data(page) == {"flow": {"name": "empty", "tasks": [], "edges": []}, "states": []}
    assert "<h1>Flow: empty</h1>" in page


# --- files and errors ----------------------------------------------------------------


class TestOutput:
    def test_writes_html(self, tmp_path: Path) -> None:
        out = tmp_path / "flow.html"
        text = mapped_flow().visualize(filename=str(out))
        assert out.read_text(encoding="utf-8") == text
        assert text.startswith("<!doctype html>")

    def test_writes_mermaid(self, tmp_path: Path) -> None:
        out = tmp_path / "flow.mmd"
        text = mapped_flow().visualize(filename=str(out), format="mermaid")
        assert out.read_text(encoding="utf-8") == text

    def test_the_file_suffix_picks_mermaid_when_no_format_is_given(self, tmp_path: Path) -> None:
        flow = mapped_flow()
        assert flow.visualize(filename=str(tmp_path / "flow.mmd")).startswith("flowchart TD")
        assert flow.visualize(filename=str(tmp_path / "any.txt")).startswith("<!doctype html>")

    def test_markdown_file_gets_a_fenced_block(self, tmp_path: Path) -> None:
        out = tmp_path / "flow.md"
        text = mapped_flow().visualize(filename=str(out), format="mermaid")
        assert out.read_text(encoding="utf-8") == f"```mermaid\n{text}```\n"
        assert mapped_flow().visualize(filename=str(tmp_path / "again.md")) == text

    def test_unknown_format_names_the_allowed_ones(self, tmp_path: Path) -> None:
        out = tmp_path / "flow.png"
        with pytest.raises(ValueError, match="'html', 'mermaid'") as info:
            mapped_flow().visualize(filename=str(out), format="png")
        assert "'png'" in str(info.value) and "mapped" in str(info.value)
        assert not out.exists()
        assert FORMATS == ("html", "mermaid")
