"""Drawing a flow: Mermaid text, or a standalone SVG laid out in pure Python.

``visualize(flow, flow_state=None, filename=None, format="svg")`` is what
``Flow.visualize`` calls. Both formats show the same things:

- one node per task, labelled with its name; Parameters and mapped tasks (those
  with a mapped incoming edge) are marked in the label, not by shape alone;
- one arrow per edge, labelled with the edge's key; mapped edges are dashed;
- given a finished flow State (whose ``.result`` maps Task → State), every node
  is coloured by its state type *and* names its state in the label, so colour is
  never the only signal; a ``Mapped`` state lists its children's counts.

The SVG layout is a layered (Sugiyama-style) drawing kept linear in the size of
the graph, so thousands of tasks draw in well under a second:

1. layers by longest path from the roots, in ``flow.sorted_tasks()`` order;
2. an edge crossing several layers gets a bend point in each, so it is routed
   around boxes rather than through them (within a budget per task, so one root
   feeding every link of a long chain cannot make the drawing quadratic);
3. a few barycenter sweeps (down, then up) reorder each layer to reduce crossings;
4. each layer is packed in that order, then boxes slide toward the centre of
   their neighbours (chains come out straight); edges are cubic curves from the
   bottom of the upstream box to the top of the downstream one.

This module reads the graph through ``Flow``'s public methods and states through
``name`` / ``type.value`` / ``map_states`` only, so the graph layer never imports
the engine. Colours live here (the drawing owns its palette), not on the states.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.core.task import Parameter

if TYPE_CHECKING:
    from weir.core.edge import Edge
    from weir.core.flow import Flow
    from weir.core.task import Task

__all__ = ["FORMATS", "STATE_COLORS", "to_mermaid", "to_svg", "visualize"]

logger = logging.getLogger(__name__)

#: The formats ``visualize`` draws.
FORMATS = ("svg", "mermaid")

#: Fill colour per state type (``StateType`` value strings), in legend order.
STATE_COLORS: dict[str, str] = {
    "Pending": "#9e9e9e",
    "Scheduled": "#b0bec5",
    "Paused": "#fdd835",
    "Submitted": "#64b5f6",
    "Running": "#1e88e5",
    "Retrying": "#fb8c00",
    "Looped": "#8e24aa",
    "Cancelling": "#8d6e63",
    "Success": "#2e7d32",
    "Mapped": "#66bb6a",
    "Cached": "#00897b",
    "Skipped": "#e0e0e0",
    "Failed": "#e53935",
    "TriggerFailed": "#f4511e",
    "TimedOut": "#8e0000",
    "Cancelled": "#616161",
}
#: For state types this palette does not know (added after it was written).
_UNKNOWN_COLOR = "#bdbdbd"


def visualize(
    flow: Flow, flow_state: Any = None, filename: str | Path | None = None, format: str = "svg"
) -> str:
    """Draw ``flow`` as ``format`` ("svg" or "mermaid"); also write it to ``filename`` if given."""
    if format not in FORMATS:
        raise ValueError(
            f"Flow '{flow.name}': cannot visualize as {format!r}; "
            f"the formats are {', '.join(repr(f) for f in FORMATS)}."
        )
    states = _task_states(flow_state)
    if format == "mermaid":
        text = to_mermaid(flow, states)
    else:
        text = to_svg(flow, states, flow_state=flow_state)
    if filename is not None:
        _write(Path(filename), text, format)
    return text


def _write(path: Path, text: str, format: str) -> None:
    # A Markdown file gets a fenced block, so it renders wherever Markdown does.
    if format == "mermaid" and path.suffix.lower() == ".md":
        text = f"```mermaid\n{text}```\n"
    path.write_text(text, encoding="utf-8")
    logger.debug("Wrote the %s drawing to %s", format, path)


def _task_states(flow_state: Any) -> Mapping[Any, Any]:
    """Task → State from a flow State (or a plain mapping); empty when there is none."""
    if flow_state is None:
        return {}
    result = getattr(flow_state, "result", flow_state)
    # A flow that failed before running any task carries an exception, not a mapping.
    return result if isinstance(result, Mapping) else {}


# --- what every node says (shared by both formats) ---------------------------


def _mapped_tasks(edges: list[Edge]) -> set[Task]:
    return {e.downstream_task for e in edges if e.mapped}


def _state_key(state: Any) -> str:
    """The state's type as a string (``StateType`` value), e.g. "TriggerFailed"."""
    kind = getattr(state, "type", None)
    return str(getattr(kind, "value", None) or type(state).__name__)


def _state_name(state: Any) -> str:
    return str(getattr(state, "name", None) or type(state).__name__)


def _child_counts(map_states: list[Any]) -> list[tuple[str, int]]:
    """(state name, count) of a mapped task's children, most common first."""
    counts: dict[str, int] = {}
    for child in map_states:
        name = _state_name(child)
        counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _state_text(state: Any) -> str:
    """ "Success", or for a mapped state "Mapped: 98 Success, 2 Failed"."""
    name = _state_name(state)
    children = getattr(state, "map_states", None)
    if children is None:
        return name
    if not children:
        return f"{name}: no children"
    return f"{name}: " + ", ".join(f"{n} {s}" for s, n in _child_counts(children))


def _detail(task: Task, is_mapped: bool, state: Any) -> str:
    """What the label says besides the name: kind marks, then the state."""
    parts: list[str] = []
    if isinstance(task, Parameter):
        parts.append("Parameter")
    # A Mapped state already says the task is mapped; any other state does not.
    if is_mapped and getattr(state, "map_states", None) is None:
        parts.append("mapped")
    if state is not None:
        parts.append(_state_text(state))
    return ", ".join(parts)


def _label(task: Task, is_mapped: bool, state: Any) -> str:
    detail = _detail(task, is_mapped, state)
    return f"{task.name} ({detail})" if detail else task.name


# --- colours -------------------------------------------------------------------


def _color(key: str) -> str:
    return STATE_COLORS.get(key, _UNKNOWN_COLOR)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _darker(color: str, factor: float = 0.7) -> str:
    r, g, b = _rgb(color)
    return f"#{int(r * factor):02x}{int(g * factor):02x}{int(b * factor):02x}"


def _text_color(fill: str) -> str:
    """Black on light fills, white on dark ones (relative luminance)."""
    r, g, b = _rgb(fill)
    return "#111111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 150 else "#ffffff"


def _legend_keys(keys: set[str]) -> list[str]:
    """The palette's order first, then any unknown keys alphabetically."""
    return [k for k in STATE_COLORS if k in keys] + sorted(keys - STATE_COLORS.keys())


# --- Mermaid ---------------------------------------------------------------------

# Words Mermaid's flowchart parser takes as keywords ("end" breaks a chart outright).
_MERMAID_KEYWORDS = frozenset(
    {
        "end",
        "graph",
        "flowchart",
        "subgraph",
        "style",
        "class",
        "classdef",
        "click",
        "linkstyle",
        "direction",
        "default",
        "call",
        "href",
        "interpolate",
        "acctitle",
        "accdescr",
    }
)
_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_]")
# Characters that would end a quoted label or be read as markup, as Mermaid's #code; escapes.
_MERMAID_ESCAPES = {c: f"#{ord(c)};" for c in "#\"&<>|`'"}


def _mermaid_ids(tasks: list[Task], slugs: Mapping[Task, str]) -> dict[Task, str]:
    """A Mermaid-safe, unique id per task, derived from its slug (``inc-1`` → ``inc_1``)."""
    ids: dict[Task, str] = {}
    taken: set[str] = set()
    for t in tasks:
        base = _NOT_ID_CHAR.sub("_", slugs.get(t) or t.name) or "task"
        if base[0].isdigit() or base.lower() in _MERMAID_KEYWORDS:
            base = f"t_{base}"
        node_id, n = base, 1
        while node_id in taken:  # two slugs may sanitize alike ("a b" and "a_b")
            n += 1
            node_id = f"{base}_{n}"
        taken.add(node_id)
        ids[t] = node_id
    return ids


def _mermaid_text(text: str) -> str:
    text = " ".join(text.split())  # a label is one line
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in text)


def to_mermaid(flow: Flow, states: Mapping[Any, Any] | None = None) -> str:
    """The flow as Mermaid ``flowchart TD`` text, nodes classed by state if given."""
    states = states or {}
    tasks = list(flow.sorted_tasks())
    edges = flow.edge_list()
    mapped = _mapped_tasks(edges)
    ids = _mermaid_ids(tasks, flow.slugs)
    lines = ["flowchart TD"]
    for t in tasks:
        label = _mermaid_text(_label(t, t in mapped, states.get(t)))
        # Parameters are stadiums, tasks boxes; the label says which, too.
        shape = '(["{}"])' if isinstance(t, Parameter) else '["{}"]'
        lines.append(f"    {ids[t]}{shape.format(label)}")
    for e in edges:
        arrow = "-.->" if e.mapped else "-->"
        label = f"|{_mermaid_text(e.key)}|" if e.key else ""
        lines.append(f"    {ids[e.upstream_task]} {arrow}{label} {ids[e.downstream_task]}")
    lines.extend(_mermaid_classes(tasks, ids, states))
    return "\n".join(lines) + "\n"


def _mermaid_classes(
    tasks: list[Task], ids: Mapping[Task, str], states: Mapping[Any, Any]
) -> list[str]:
    """``classDef`` per state type present, and ``class`` lines assigning nodes to them."""
    members: dict[str, list[str]] = {}
    for t in tasks:
        state = states.get(t)
        if state is not None:
            members.setdefault(_state_key(state), []).append(ids[t])
    lines = []
    for key in _legend_keys(set(members)):
        fill = _color(key)
        lines.append(
            f"    classDef {key} fill:{fill},stroke:{_darker(fill)},color:{_text_color(fill)}"
        )
    for key in _legend_keys(set(members)):
        lines.append(f"    class {','.join(members[key])} {key}")
    return lines


# --- SVG layout ------------------------------------------------------------------

_FONT = 13  # px, task names
_SMALL = 11  # px, state lines, keys and legend
_CHAR_W = 0.6  # average glyph width per px of font size, for a sans-serif face
_MAX_CHARS = 36  # longer names are shortened on the box; the full name is in <title>
_BOX_H = 46
_PAD_X = 14
_H_GAP = 28
_V_GAP = 64
_MARGIN = 24
_HEADER = 40  # the title line
_LEGEND_H = 26
_SWEEPS = 4
_BEND_W = 8  # the room a long edge takes in a layer it crosses


def _text_width(text: str, size: int) -> float:
    return len(text) * size * _CHAR_W


def _shorten(text: str, limit: int = _MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Bend:
    """A point a long edge passes through: one slot in each layer it crosses.

    Giving long edges a place in the layers they cross (Sugiyama's dummy nodes)
    keeps them from running through boxes and lets the ordering pass see them.
    """

    __slots__ = ()


#: Bends allowed per task; past that the longest edges are drawn straight across,
#: so a pathological graph (one root feeding every link of a long chain) stays linear.
_BENDS_PER_TASK = 4


def _depths(order: tuple[Task, ...], ups: Mapping[Task, list[Task]]) -> dict[Task, int]:
    """Longest-path layering: each task one layer below its deepest upstream."""
    depth: dict[Task, int] = {}
    for t in order:
        depth[t] = max((depth[u] + 1 for u in ups.get(t, ())), default=0)
    return depth


def _routes(edges: list[Edge], depth: Mapping[Task, int], budget: int) -> list[list[Any]]:
    """Each edge as a chain: upstream task, a bend per layer crossed, downstream task."""
    routes: list[list[Any]] = [[e.upstream_task, e.downstream_task] for e in edges]
    spans = [depth[e.downstream_task] - depth[e.upstream_task] for e in edges]
    for i in sorted((i for i, s in enumerate(spans) if s > 1), key=spans.__getitem__):
        if spans[i] - 1 > budget:
            break  # shorter edges got their bends; the rest go straight
        budget -= spans[i] - 1
        routes[i][1:1] = [_Bend() for _ in range(spans[i] - 1)]
    return routes


def _layers(
    order: tuple[Task, ...], depth: Mapping[Task, int], routes: list[list[Any]]
) -> tuple[list[list[Any]], dict[Any, int]]:
    """Tasks and bends per layer, and each one's layer index."""
    level: dict[Any, int] = dict(depth)
    for route in routes:
        start = depth[route[0]]
        for j, bend in enumerate(route[1:-1], 1):
            level[bend] = start + j
    layers: list[list[Any]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node, i in level.items():
        layers[i].append(node)
    return layers, level


def _order_layers(
    layers: list[list[Any]],
    ups: Mapping[Any, list[Any]],
    downs: Mapping[Any, list[Any]],
    sweeps: int = _SWEEPS,
) -> None:
    """Reorder each layer by the mean relative position of its neighbours (in place).

    Positions are relative (0..1 within their layer), so a node under a wide layer
    and one under a narrow layer compare fairly; nodes without neighbours on the
    side being looked at keep their place. Each sweep costs O(V log V + E).
    """
    pos: dict[Any, float] = {}

    def place(layer: list[Any]) -> None:
        n = len(layer)
        for i, t in enumerate(layer):
            pos[t] = (i + 0.5) / n

    def reorder(layer: list[Any], neighbours: Mapping[Any, list[Any]]) -> None:
        def key(t: Any) -> float:
            others = neighbours.get(t)
            return sum(pos[o] for o in others) / len(others) if others else pos[t]

        layer.sort(key=key)
        place(layer)

    for layer in layers:
        place(layer)
    for _ in range(sweeps):
        for layer in layers[1:]:
            reorder(layer, ups)
        for layer in reversed(layers[:-1]):
            reorder(layer, downs)


class _Box:
    """Where one task's box sits: top-left corner and width."""

    __slots__ = ("x", "y", "w")

    def __init__(self, x: float, y: float, w: float) -> None:
        self.x, self.y, self.w = x, y, w

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


def _box_width(name: str, detail: str) -> float:
    text = max(_text_width(_shorten(name), _FONT), _text_width(_shorten(detail, 48), _SMALL))
    return max(80.0, text + 2 * _PAD_X)


def _width(node: Any, widths: Mapping[Task, float]) -> float:
    return _BEND_W if isinstance(node, _Bend) else widths[node]


def _place(layers: list[list[Any]], widths: Mapping[Task, float], top: float) -> dict[Any, _Box]:
    """A first placement: each layer packed left to right, centred on the widest."""
    layer_w = [
        sum(_width(n, widths) for n in layer) + _H_GAP * (len(layer) - 1) for layer in layers
    ]
    inner = max(layer_w, default=0.0)
    boxes: dict[Any, _Box] = {}
    for i, layer in enumerate(layers):
        x = _MARGIN + (inner - layer_w[i]) / 2
        y = top + i * (_BOX_H + _V_GAP)
        for n in layer:
            w = _width(n, widths)
            boxes[n] = _Box(x, y, w)
            x += w + _H_GAP
    return boxes


def _straighten(
    layers: list[list[Any]],
    boxes: Mapping[Any, _Box],
    ups: Mapping[Any, list[Any]],
    downs: Mapping[Any, list[Any]],
    passes: int = 2,
) -> float:
    """Slide boxes toward their neighbours' centres, keeping order and gaps; returns width.

    Each layer is placed twice, once pushing overlaps right and once pushing them
    left, and the two placements averaged: both keep every gap, so their average
    does too, and neither side is favoured. Linear in the size of the graph.
    """
    for _ in range(passes):
        for layer in layers[1:]:
            _pull(layer, boxes, ups)
        for layer in reversed(layers[:-1]):
            _pull(layer, boxes, downs)
    if not boxes:
        return 0.0
    left = min(b.x for b in boxes.values())
    right = max(b.x + b.w for b in boxes.values())
    for b in boxes.values():
        b.x += _MARGIN - left
    return right - left


def _pull(layer: list[Any], boxes: Mapping[Any, _Box], neighbours: Mapping[Any, list[Any]]) -> None:
    want = []
    for n in layer:
        b, others = boxes[n], neighbours.get(n)
        cx = sum(boxes[o].cx for o in others) / len(others) if others else b.cx
        want.append(cx - b.w / 2)
    pushed_right, edge = [], float("-inf")
    for n, x in zip(layer, want, strict=True):
        x = max(x, edge)
        pushed_right.append(x)
        edge = x + boxes[n].w + _H_GAP
    pushed_left, edge = [0.0] * len(layer), float("inf")
    for i in range(len(layer) - 1, -1, -1):
        x = min(want[i], edge - boxes[layer[i]].w)
        pushed_left[i] = x
        edge = x - _H_GAP
    for n, a, b in zip(layer, pushed_right, pushed_left, strict=True):
        boxes[n].x = (a + b) / 2


# --- SVG drawing ------------------------------------------------------------------

# XML 1.0 forbids most control characters even as references; drop them.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _esc(text: str) -> str:
    text = _XML_BAD.sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


_STYLE = (
    "text{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;fill:#111}"
    f".name{{font-size:{_FONT}px;font-weight:600}}"
    f".detail,.key,.legend{{font-size:{_SMALL}px}}"
    ".title{font-size:15px;font-weight:700}"
    ".edge{fill:none;stroke:#555;stroke-width:1.4}"
    ".edge.mapped{stroke-dasharray:6 4}"
    ".key{fill:#333;paint-order:stroke;stroke:#fff;stroke-width:3px}"
)


def to_svg(flow: Flow, states: Mapping[Any, Any] | None = None, flow_state: Any = None) -> str:
    """The flow as a standalone SVG document, boxes coloured by state if given."""
    states = states or {}
    order = flow.sorted_tasks()
    edges = flow.edge_list()
    mapped = _mapped_tasks(edges)
    ups: dict[Task, list[Task]] = {}
    for e in edges:
        ups.setdefault(e.downstream_task, []).append(e.upstream_task)
    depth = _depths(order, ups)
    routes = _routes(edges, depth, _BENDS_PER_TASK * len(order) + 64)
    layers, level = _layers(order, depth, routes)
    neighbours = _neighbours(routes)
    _order_layers(layers, *neighbours)
    details = {t: _detail(t, t in mapped, states.get(t)) for t in order}
    widths = {t: _box_width(t.name, details[t]) for t in order}
    present = _present_state_keys(order, states)
    top = _MARGIN + _HEADER + (_LEGEND_H if present or mapped else 0)
    boxes = _place(layers, widths, top)
    inner = _straighten(layers, boxes, *neighbours)
    legend, legend_w = _legend(present, bool(mapped), _MARGIN + _HEADER)
    width = 2 * _MARGIN + max(inner, legend_w, 200.0)
    height = top + max(len(layers) * (_BOX_H + _V_GAP) - _V_GAP, 0) + _MARGIN

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" class="weir-flow">',
        f"<title>{_esc(_title(flow, flow_state))}</title>",
        f"<style>{_STYLE}</style>",
        '<defs><marker id="weir-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<polygon points="0,0 10,5 0,10" fill="#555"/></marker></defs>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text class="title" x="{_MARGIN}" y="{_MARGIN + 16}">'
        f"{_esc(_title(flow, flow_state))}</text>",
        *legend,
        '<g class="edges">',
    ]
    labels: list[str] = []
    for e, route, points in zip(edges, routes, _edge_points(routes, boxes), strict=True):
        out.append(_edge_path(e, points))
        if e.key:
            span = level[route[-1]] - level[route[-2]]
            labels.append(_edge_label(e.key, points[-2], points[-1], span))
    out.append("</g>")
    out.append('<g class="nodes">')
    for t in order:
        out.append(_node(t, boxes[t], details[t], t in mapped, states.get(t), flow.slugs.get(t)))
    out.append("</g>")
    # Keys go last so no box or curve hides them.
    out.append('<g class="keys">')
    out.extend(labels)
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _title(flow: Flow, flow_state: Any) -> str:
    if flow_state is None or isinstance(flow_state, Mapping):  # no flow state, only tasks'
        return f"Flow: {flow.name}"
    return f"Flow: {flow.name} ({_state_name(flow_state)})"


def _present_state_keys(order: tuple[Task, ...], states: Mapping[Any, Any]) -> dict[str, int]:
    """How many tasks are in each state type (mapped children's types listed with 0)."""
    counts: dict[str, int] = {}
    for t in order:
        state = states.get(t)
        if state is None:
            continue
        key = _state_key(state)
        counts[key] = counts.get(key, 0) + 1
        for child in getattr(state, "map_states", None) or ():
            counts.setdefault(_state_key(child), 0)
    return counts


def _legend(present: Mapping[str, int], has_mapped: bool, y: float) -> tuple[list[str], float]:
    """One row: a swatch per state present, then the dashed mapped-edge sample."""
    items: list[str] = ['<g class="legend-items">']
    x = float(_MARGIN)
    for key in _legend_keys(set(present)):
        fill = _color(key)
        # Counts are of tasks; a state seen only among mapped children has none.
        text = f"{key} ({present[key]})" if present[key] else key
        items.append(
            f'<rect class="swatch" data-state="{_esc(key)}" x="{_f(x)}" y="{_f(y)}" '
            f'width="14" height="14" rx="3" fill="{fill}" stroke="{_darker(fill)}"/>'
        )
        items.append(f'<text class="legend" x="{_f(x + 20)}" y="{_f(y + 11)}">{_esc(text)}</text>')
        x += 20 + _text_width(text, _SMALL) + 18
    if has_mapped:
        items.append(
            f'<line class="edge mapped" x1="{_f(x)}" y1="{_f(y + 7)}" '
            f'x2="{_f(x + 28)}" y2="{_f(y + 7)}"/>'
        )
        items.append(f'<text class="legend" x="{_f(x + 34)}" y="{_f(y + 11)}">mapped edge</text>')
        x += 34 + _text_width("mapped edge", _SMALL) + 18
    items.append("</g>")
    return items, x - _MARGIN


_Point = tuple[float, float]


def _neighbours(routes: list[list[Any]]) -> tuple[dict[Any, list[Any]], dict[Any, list[Any]]]:
    """Upstream and downstream neighbours of every task and bend, along the routes."""
    ups: dict[Any, list[Any]] = {}
    downs: dict[Any, list[Any]] = {}
    for route in routes:
        for a, b in pairwise(route):
            downs.setdefault(a, []).append(b)
            ups.setdefault(b, []).append(a)
    return ups, downs


def _spread(box: _Box, i: int, n: int) -> float:
    """The i-th of n attachment points along a box's side (its middle 60%)."""
    return box.cx if n == 1 else box.x + box.w * (0.2 + 0.6 * (i + 0.5) / n)


def _edge_points(routes: list[list[Any]], boxes: Mapping[Any, _Box]) -> list[list[_Point]]:
    """Each edge's points: leaving its upstream box, through its bends, into its downstream box.

    A box's several edges get their own points along its side, ordered by where
    the next point lies, so they neither overlap (two keys from one upstream) nor
    cross right at the box.
    """
    outgoing: dict[Any, list[int]] = {}
    incoming: dict[Any, list[int]] = {}
    for i, route in enumerate(routes):
        outgoing.setdefault(route[0], []).append(i)
        incoming.setdefault(route[-1], []).append(i)
    x_out = [0.0] * len(routes)
    x_in = [0.0] * len(routes)
    for node, idx in outgoing.items():
        idx.sort(key=lambda i: boxes[routes[i][1]].cx)
        for k, i in enumerate(idx):
            x_out[i] = _spread(boxes[node], k, len(idx))
    for node, idx in incoming.items():
        idx.sort(key=lambda i: boxes[routes[i][-2]].cx)
        for k, i in enumerate(idx):
            x_in[i] = _spread(boxes[node], k, len(idx))
    points = []
    for i, route in enumerate(routes):
        pts = [(x_out[i], boxes[route[0]].y + _BOX_H)]
        for bend in route[1:-1]:
            b = boxes[bend]
            pts += [(b.cx, b.y), (b.cx, b.y + _BOX_H)]
        pts.append((x_in[i], boxes[route[-1]].y))
        points.append(pts)
    return points


def _edge_path(e: Edge, points: list[_Point]) -> str:
    """Curves across the gaps between layers, straight down through each bend."""
    (x, y), *rest = points
    d = [f"M{_f(x)},{_f(y)}"]
    for j in range(0, len(rest), 2):
        (x2, y2) = rest[j]
        my = (y + y2) / 2
        d.append(f"C{_f(x)},{_f(my)} {_f(x2)},{_f(my)} {_f(x2)},{_f(y2)}")
        if j + 1 < len(rest):
            x, y = rest[j + 1]
            d.append(f"L{_f(x)},{_f(y)}")
    cls = "edge mapped" if e.mapped else "edge"
    return f'<path class="{cls}" d="{" ".join(d)}" marker-end="url(#weir-arrow)"/>'


def _edge_label(key: str, start: _Point, end: _Point, span: int) -> str:
    """The key in the gap just above the downstream box, on the edge's last curve."""
    # Across one gap this is the curve's midpoint; an edge drawn straight over
    # several layers (no bends left) puts it at the same height above its end.
    (x1, y1), (x2, y2) = start, end
    t = 1 - 0.5 / max(span, 1)
    my = (y1 + y2) / 2
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3
    x = (a + b) * x1 + (c + d) * x2
    y = a * y1 + (b + c) * my + d * y2
    return (
        f'<text class="key" x="{_f(x)}" y="{_f(y + 4)}" text-anchor="middle">'
        f"{_esc(_shorten(key, 24))}</text>"
    )


def _node(task: Task, box: _Box, detail: str, is_mapped: bool, state: Any, slug: str | None) -> str:
    """A rounded box (a pill for Parameters), the name, and the kind/state line."""
    fill, stroke, ink = "#ffffff", "#555555", "#111111"
    state_attr = ""
    if state is not None:
        key = _state_key(state)
        fill = _color(key)
        stroke, ink = _darker(fill), _text_color(fill)
        state_attr = f' data-state="{_esc(key)}"'
    rx = _BOX_H / 2 if isinstance(task, Parameter) else 8
    parts = [
        f'<g class="task"{state_attr} data-slug="{_esc(slug or task.name)}">',
        f"<title>{_esc(task.name)}{' — ' + _esc(detail) if detail else ''}</title>",
    ]
    if is_mapped:  # a second box peeking out behind: "many of these"
        parts.append(
            f'<rect x="{_f(box.x + 4)}" y="{_f(box.y + 4)}" width="{_f(box.w)}" '
            f'height="{_BOX_H}" rx="{_f(rx)}" fill="{fill}" stroke="{stroke}" opacity="0.6"/>'
        )
    parts.append(
        f'<rect x="{_f(box.x)}" y="{_f(box.y)}" width="{_f(box.w)}" height="{_BOX_H}" '
        f'rx="{_f(rx)}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>'
    )
    name_y = box.y + (19 if detail else 28)
    parts.append(
        f'<text class="name" x="{_f(box.cx)}" y="{_f(name_y)}" text-anchor="middle" '
        f'style="fill:{ink}">{_esc(_shorten(task.name))}</text>'
    )
    if detail:
        parts.append(
            f'<text class="detail" x="{_f(box.cx)}" y="{_f(box.y + 35)}" text-anchor="middle" '
            f'style="fill:{ink}">{_esc(_shorten(detail, 48))}</text>'
        )
    children = getattr(state, "map_states", None)
    if children:
        parts.extend(_child_bar(children, box))
    parts.append("</g>")
    return "".join(parts)


def _child_bar(children: list[Any], box: _Box) -> list[str]:
    """A thin bar along the box's bottom, split by the children's state types."""
    counts: dict[str, int] = {}
    for child in children:
        key = _state_key(child)
        counts[key] = counts.get(key, 0) + 1
    x, inner = box.x + 8, box.w - 16
    y = box.y + _BOX_H - 6
    bars = []
    for key in _legend_keys(set(counts)):
        w = inner * counts[key] / len(children)
        bars.append(
            f'<rect class="children" data-state="{_esc(key)}" x="{_f(x)}" y="{_f(y)}" '
            f'width="{_f(w)}" height="3" fill="{_color(key)}" stroke="#ffffff" '
            f'stroke-width="0.5"/>'
        )
        x += w
    return bars
