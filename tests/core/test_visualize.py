"""flow.visualize(): Mermaid text and a standalone SVG, with and without run states."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from weir import Flow, Parameter, task
from weir.core.visualize import FORMATS, STATE_COLORS

SVG = "{http://www.w3.org/2000/svg}"


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


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def task_groups(root: ET.Element) -> dict[str, ET.Element]:
    """The SVG's task groups by slug."""
    return {g.get("data-slug"): g for g in root.iter(f"{SVG}g") if g.get("class") == "task"}


def box(group: ET.Element) -> ET.Element:
    """The front box of a task group (the last rect before the texts)."""
    rects = [r for r in group.findall(f"{SVG}rect") if r.get("class") != "children"]
    return rects[-1]


def all_text(root: ET.Element) -> str:
    return "\n".join("".join(el.itertext()) for el in root.iter())


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
        assert f"fill:{STATE_COLORS['TriggerFailed']}" in defs["TriggerFailed"]
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


# --- SVG -------------------------------------------------------------------------


class TestSvg:
    def test_parses_and_names_every_task(self) -> None:
        flow = mapped_flow()
        root = parse(flow.visualize())
        assert root.tag == f"{SVG}svg"
        assert float(root.get("width", 0)) > 0 and float(root.get("height", 0)) > 0
        groups = task_groups(root)
        assert set(groups) == set(flow.slugs.values())
        for t in flow.task_list():
            names = [el.text for el in groups[flow.slugs[t]].iter(f"{SVG}text")]
            assert names[0] == t.name

    def test_one_path_per_edge_mapped_ones_dashed(self) -> None:
        flow = mapped_flow()
        root = parse(flow.visualize())
        paths = [p for p in root.iter(f"{SVG}path") if "edge" in p.get("class", "").split()]
        assert len(paths) == len(flow.edge_list()) == 5
        assert [p.get("class") for p in paths].count("edge mapped") == 1
        keys = sorted(el.text or "" for el in root.iter(f"{SVG}text") if el.get("class") == "key")
        assert keys == ["a", "b", "n", "x", "xs"]

    def test_marks_parameters_and_mapped_tasks_in_words(self) -> None:
        flow = mapped_flow()
        groups = task_groups(parse(flow.visualize()))
        assert "Parameter" in all_text(groups["n"])
        assert "mapped" in all_text(groups["inc-1"])

    def test_hostile_names_are_escaped(self) -> None:
        flow = Flow("<script>&\"'")
        hostile = free.copy(name='<script>alert("x")&\'</script>\x01')
        flow.add_task(hostile)
        svg = flow.visualize()
        assert "<script" not in svg
        root = parse(svg)
        (group,) = task_groups(root).values()
        assert group.find(f"{SVG}text").text == '<script>alert("x")&\'</script>'  # type: ignore[union-attr]

    def test_layers_follow_longest_paths(self) -> None:
        flow = Flow("layers")
        a, b, c, d = (free.copy(name=n) for n in "abcd")
        flow.chain(a, b, c)
        flow.add_edge(a, d)
        flow.add_edge(c, d)  # d sits below c, not beside b
        groups = task_groups(parse(flow.visualize()))
        y = {s: float(box(g).get("y", 0)) for s, g in groups.items()}
        assert y["a-1"] < y["b-1"] < y["c-1"] < y["d-1"]

    def test_barycenter_pass_uncrosses_parallel_chains(self) -> None:
        flow = Flow("uncross")
        a1, a2, b2, b1 = (free.copy(name=n) for n in ("a1", "a2", "b2", "b1"))
        for t in (a1, a2, b2, b1):  # b2 added first: the naive order would cross
            flow.add_task(t)
        flow.add_edge(a1, b1)
        flow.add_edge(a2, b2)
        groups = task_groups(parse(flow.visualize()))
        x = {s: float(box(g).get("x", 0)) for s, g in groups.items()}
        assert x["a1-1"] < x["a2-1"]
        assert x["b1-1"] < x["b2-1"]

    def test_long_edges_bend_through_the_layers_they_cross(self) -> None:
        flow = Flow("bend")
        a, b, c, d = (free.copy(name=n) for n in "abcd")
        flow.chain(a, b, c, d)
        flow.add_edge(a, d, key="skip")
        root = parse(flow.visualize())
        paths = {p.get("d", "") for p in root.iter(f"{SVG}path") if p.get("class") == "edge"}
        long = [d for d in paths if d.count("C") == 3]  # three gaps, two bends
        assert len(long) == 1 and long[0].count("L") == 2
        groups = task_groups(root)
        # The bends take their own slot, so the long edge never runs through b or c.
        xs = [float(v.split(",")[0][1:]) for v in long[0].split() if v.startswith("L")]
        for slug in ("b-1", "c-1"):
            rect = box(groups[slug])
            left, width = float(rect.get("x", 0)), float(rect.get("width", 0))
            assert all(not left <= x <= left + width for x in xs)

    def test_chains_are_drawn_straight_down(self) -> None:
        flow = Flow("straight")
        a, b, c = (free.copy(name=n) for n in "abc")
        for name in ("x1", "x2"):
            flow.add_task(free.copy(name=name))
        flow.chain(a, b, c)
        groups = task_groups(parse(flow.visualize()))

        def centre(slug: str) -> float:
            rect = box(groups[slug])
            return float(rect.get("x", 0)) + float(rect.get("width", 0)) / 2

        assert centre("a-1") == centre("b-1") == centre("c-1")

    def test_a_root_feeding_every_link_of_a_long_chain_stays_drawable(self) -> None:
        # The edges cross ~20,000 layer slots in all; only a bounded number bend.
        flow = Flow("fan")
        root_task = free.copy(name="root")
        chain = [free.copy(name=f"c{i}") for i in range(200)]
        flow.chain(root_task, *chain)
        for t in chain[1:]:
            flow.add_edge(root_task, t, key="r")
        root = parse(flow.visualize())
        paths = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
        assert len(paths) == len(flow.edge_list())
        bends = sum(p.get("d", "").count("L") for p in paths)
        assert 0 < bends <= 4 * len(flow.task_list()) + 64

    def test_states_colour_boxes_and_fill_the_legend(self) -> None:
        flow = mapped_flow()
        state = flow.run()
        root = parse(flow.visualize(state))
        groups = task_groups(root)
        assert box(groups["numbers-1"]).get("fill") == STATE_COLORS["Success"]
        assert box(groups["total-1"]).get("fill") == STATE_COLORS["TriggerFailed"]
        assert groups["inc-1"].get("data-state") == "Mapped"
        # The state is in words too, never colour alone.
        assert "TriggerFailed" in all_text(groups["total-1"])
        assert "Mapped: 4 Success, 1 Failed" in all_text(groups["inc-1"])
        bar = {r.get("data-state") for r in groups["inc-1"].iter() if r.get("class") == "children"}
        assert bar == {"Success", "Failed"}
        swatches = [
            r.get("data-state") for r in root.iter(f"{SVG}rect") if r.get("class") == "swatch"
        ]
        assert swatches == ["Success", "Mapped", "Failed", "TriggerFailed"]
        assert "Flow: mapped (Failed)" in all_text(root)

    def test_a_state_without_task_states_draws_plainly(self) -> None:
        flow = mapped_flow()
        state = flow.run()
        state.result = ValueError("failed before any task ran")
        root = parse(flow.visualize(state))
        assert all(g.get("data-state") is None for g in task_groups(root).values())

    def test_a_plain_mapping_of_task_states_works_too(self) -> None:
        flow = mapped_flow()
        states = flow.run().result
        root = parse(flow.visualize(states))
        assert task_groups(root)["total-1"].get("data-state") == "TriggerFailed"
        assert "Flow: mapped\n" in all_text(root) + "\n"

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
        root = parse(flow.visualize())
        assert len(task_groups(root)) == width * depth == 2000
        paths = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
        assert len(paths) == len(flow.edge_list())
        assert flow.visualize(format="mermaid").count("-->") == len(flow.edge_list())


def test_an_empty_flow_draws_in_both_formats() -> None:
    flow = Flow("empty")
    assert flow.visualize(format="mermaid") == "flowchart TD\n"
    root = parse(flow.visualize())
    assert float(root.get("height", 0)) >= 60
    assert "Flow: empty" in all_text(root)


# --- files and errors ----------------------------------------------------------------


class TestOutput:
    def test_writes_svg(self, tmp_path: Path) -> None:
        out = tmp_path / "flow.svg"
        text = mapped_flow().visualize(filename=str(out))
        assert out.read_text(encoding="utf-8") == text
        parse(out.read_text(encoding="utf-8"))

    def test_writes_mermaid(self, tmp_path: Path) -> None:
        out = tmp_path / "flow.mmd"
        text = mapped_flow().visualize(filename=str(out), format="mermaid")
        assert out.read_text(encoding="utf-8") == text

    def test_markdown_file_gets_a_fenced_block(self, tmp_path: Path) -> None:
        out = tmp_path / "flow.md"
        text = mapped_flow().visualize(filename=str(out), format="mermaid")
        assert out.read_text(encoding="utf-8") == f"```mermaid\n{text}```\n"

    def test_unknown_format_names_the_allowed_ones(self, tmp_path: Path) -> None:
        out = tmp_path / "flow.png"
        with pytest.raises(ValueError, match="'svg', 'mermaid'") as info:
            mapped_flow().visualize(filename=str(out), format="png")
        assert "'png'" in str(info.value) and "mapped" in str(info.value)
        assert not out.exists()
        assert FORMATS == ("svg", "mermaid")
