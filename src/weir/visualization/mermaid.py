"""A flow as Mermaid ``flowchart TD`` text: whatever renders Mermaid lays it out.

Every task is a node labelled with its name (Parameters are stadiums and say so,
mapped tasks say "mapped"); every edge an arrow labelled with its key, dashed when
mapped. Given states, each node names its state and is coloured from the UI's
palette (``palette.css``), one ``classDef`` per state type present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from weir.core.task import Parameter
from weir.visualization.palette import state_color, state_colors
from weir.visualization.states import label, mapped_tasks, state_key

if TYPE_CHECKING:
    from weir.core.flow import Flow
    from weir.core.task import Task

__all__ = ["to_mermaid"]

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


def _ids(tasks: list[Task], slugs: Mapping[Task, str]) -> dict[Task, str]:
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


def _text(text: str) -> str:
    text = " ".join(text.split())  # a label is one line
    return "".join(_MERMAID_ESCAPES.get(c, c) for c in text)


def to_mermaid(
    flow: Flow, states: Mapping[Any, Any] | None = None, horizontal: bool = False
) -> str:
    """The flow as Mermaid ``flowchart TD`` (``LR`` if horizontal) text, classed by state."""
    states = states or {}
    tasks = list(flow.sorted_tasks())
    edges = flow.edge_list()
    mapped = mapped_tasks(edges)
    ids = _ids(tasks, flow.slugs)
    lines = ["flowchart LR" if horizontal else "flowchart TD"]
    for t in tasks:
        text = _text(label(t, t in mapped, states.get(t)))
        # Parameters are stadiums, tasks boxes; the label says which, too.
        shape = '(["{}"])' if isinstance(t, Parameter) else '["{}"]'
        lines.append(f"    {ids[t]}{shape.format(text)}")
    for e in edges:
        arrow = "-.->" if e.mapped else "-->"
        key = f"|{_text(e.key)}|" if e.key else ""
        lines.append(f"    {ids[e.upstream_task]} {arrow}{key} {ids[e.downstream_task]}")
    lines.extend(_classes(tasks, ids, states))
    return "\n".join(lines) + "\n"


def _classes(tasks: list[Task], ids: Mapping[Task, str], states: Mapping[Any, Any]) -> list[str]:
    """``classDef`` per state type present, and ``class`` lines assigning nodes to them."""
    members: dict[str, list[str]] = {}
    for t in tasks:
        state = states.get(t)
        if state is not None:
            members.setdefault(state_key(state), []).append(ids[t])
    # The palette's order first, then any state type it does not know.
    keys = [k for k in state_colors() if k in members] + sorted(members.keys() - state_colors())
    lines = []
    for key in keys:
        ink, tint = state_color(key)
        lines.append(f"    classDef {key} fill:{tint},stroke:{ink},color:{ink}")
    for key in keys:
        lines.append(f"    class {','.join(members[key])} {key}")
    return lines
