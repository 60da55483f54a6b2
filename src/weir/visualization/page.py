"""A flow as one self-contained HTML page, drawn by the UI's own graph code.

The page inlines the UI's ``dag.js`` (weir's one graph layout), ``weir.js``,
``palette.css`` and ``weir.css``, and the graph and states as JSON, so it opens
offline in any browser and looks like the run page: the same layout, colours,
icons and counts of a mapped task's children. Nothing is fetched.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from weir.core.task import Parameter
from weir.visualization.assets import static_text
from weir.visualization.states import child_counts, mapped_tasks, state_key, state_name

if TYPE_CHECKING:
    from weir.core.flow import Flow

__all__ = ["graph_data", "to_html"]

# The drawing, once the scripts above have loaded (W and WeirDag).
_DRAW = """
(() => {
  const data = JSON.parse(document.getElementById("weir-graph").textContent);
  const box = document.getElementById("dag");
  const totals = WeirDag.draw(box, data.flow).update(data.states);
  document.getElementById("task-totals").innerHTML = W.STATE_ORDER
    .filter((s) => totals[s]).map((s) => W.badge(s, "× " + totals[s])).join("");
  box.dataset.ready = "true";
})();
"""

# The page is the whole window: the graph box takes what the heading leaves.
_PAGE_CSS = """
main { padding: 0 1rem; }
.dag { max-height: none; height: calc(100vh - 7rem); }
.totals .badge { margin-right: .3rem; }
"""


def graph_data(flow: Flow, states: Mapping[Any, Any] | None = None) -> dict[str, Any]:
    """The graph as the UI's ``WeirDag.draw`` takes it, and the states as ``update`` does."""
    states = states or {}
    edges = flow.edge_list()
    mapped = mapped_tasks(edges)
    slugs = flow.slugs
    tasks = [
        {
            "slug": slugs.get(t) or t.name,
            "name": t.name,
            "is_parameter": isinstance(t, Parameter),
            "mapped": t in mapped,
        }
        for t in flow.sorted_tasks()
    ]
    return {
        "flow": {
            "name": flow.name,
            "tasks": tasks,
            "edges": [
                {
                    "upstream": slugs.get(e.upstream_task) or e.upstream_task.name,
                    "downstream": slugs.get(e.downstream_task) or e.downstream_task.name,
                    "key": e.key,
                    "mapped": e.mapped,
                }
                for e in edges
            ],
        },
        "states": [
            _summary(slugs.get(t) or t.name, state)
            for t in flow.sorted_tasks()
            if (state := states.get(t)) is not None
        ],
    }


def _summary(slug: str, state: Any) -> dict[str, Any]:
    """One task's state the way the server's run overview sums it up."""
    key = state_key(state)
    message = getattr(state, "message", None)
    name = state_name(state)
    if name != key:  # a state given a name of its own says it
        message = f"{name}: {message}" if message else name
    summary: dict[str, Any] = {"slug": slug, "state": key, "message": message}
    children = getattr(state, "map_states", None)
    if children is not None:
        summary["children"] = len(children)
        summary["counts"] = dict(child_counts(children, key=state_key))
    return summary


def _script_json(value: Any) -> str:
    # Inside <script> only "</" could end the element; escaping <, > and & covers it.
    return (
        json.dumps(value, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _script(text: str) -> str:
    # Our own files never hold "</script"; this keeps an edit from breaking the page.
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


def title(flow: Flow, flow_state: Any) -> str:
    if flow_state is None or isinstance(flow_state, Mapping):  # no flow state, only tasks'
        return f"Flow: {flow.name}"
    return f"Flow: {flow.name} ({state_name(flow_state)})"


def to_html(flow: Flow, states: Mapping[Any, Any] | None = None, flow_state: Any = None) -> str:
    """The flow as a standalone HTML page, nodes coloured by state if given."""
    heading = html.escape(title(flow, flow_state))
    n = len(flow.tasks)
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{heading}</title>",
            "<style>",
            static_text("palette.css"),
            static_text("weir.css"),
            _PAGE_CSS,
            "</style>",
            "</head>",
            '<body data-page="visualize">',
            '<main id="main">',
            f"<h1>{heading}</h1>",
            '<p id="task-totals" class="totals" aria-live="polite"></p>',
            f'<div id="dag" class="dag" tabindex="0" aria-label="Graph of {n} tasks"></div>',
            "<noscript><p>This drawing needs JavaScript; "
            '<code>flow.visualize(format="mermaid")</code> gives text.</p></noscript>',
            "</main>",
            '<script type="application/json" id="weir-graph">'
            + _script_json(graph_data(flow, states))
            + "</script>",
            _script(static_text("weir.js")),
            _script(static_text("dag.js")),
            _script(_DRAW),
            "</body>",
            "</html>",
            "",
        ]
    )
