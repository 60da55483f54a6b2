"""Drawing a flow: a self-contained HTML page, or Mermaid text.

``visualize(flow, flow_state=None, filename=None, format=None)`` is what
``Flow.visualize`` calls. Both formats show the same things:

- one node per task, named; Parameters and mapped tasks are marked in words;
- one edge per upstream/downstream pair, mapped edges dashed, keys named;
- given a finished flow State (whose ``.result`` maps Task → State), every node
  is coloured by its state type *and* names it, so colour is never the only
  signal; a mapped task counts its children per state.

The HTML page is drawn by the UI's own graph code (``server/ui/static/dag.js``,
inlined), so weir has one graph layout; colours come from the UI's
``palette.css`` in both formats (:mod:`weir.visualization.palette`). Mermaid
text is laid out by whatever renders it (GitHub, mkdocs, the Mermaid CLI).

This sits above ``weir.core`` (it reads the graph through ``Flow``'s public
methods) and writes a file only when asked to; the core stays free of I/O.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weir.visualization.mermaid import to_mermaid
from weir.visualization.page import to_html
from weir.visualization.states import task_states

if TYPE_CHECKING:
    from weir.core.flow import Flow

__all__ = ["FORMATS", "to_html", "to_mermaid", "visualize"]

logger = logging.getLogger(__name__)

#: The formats ``visualize`` draws.
FORMATS = ("html", "mermaid")

# A file's suffix says its format when none is given.
_SUFFIXES = {".md": "mermaid", ".mmd": "mermaid", ".mermaid": "mermaid"}


def visualize(
    flow: Flow,
    flow_state: Any = None,
    filename: str | Path | None = None,
    format: str | None = None,
    horizontal: bool = False,
) -> str:
    """Draw ``flow`` as ``format`` ("html" or "mermaid"); also write it to ``filename`` if given.

    Without a format, a ``.md``/``.mmd`` file gets Mermaid and anything else HTML.
    ``horizontal`` (Prefect 1's) draws left to right; only Mermaid text can.
    """
    if format is None:
        suffix = Path(filename).suffix.lower() if filename is not None else ""
        format = _SUFFIXES.get(suffix, "html")
    if format not in FORMATS:
        raise ValueError(
            f"Flow '{flow.name}': cannot visualize as {format!r}; "
            f"the formats are {', '.join(repr(f) for f in FORMATS)}."
        )
    if horizontal and format != "mermaid":
        raise ValueError(
            f"Flow '{flow.name}': the {format} drawing is top to bottom only (the web UI's "
            "layout); pass format='mermaid' for a horizontal one."
        )
    states = task_states(flow_state)
    if format == "mermaid":
        text = to_mermaid(flow, states, horizontal=horizontal)
    else:
        text = to_html(flow, states, flow_state=flow_state)
    if filename is not None:
        _write(Path(filename), text, format)
    return text


def _write(path: Path, text: str, format: str) -> None:
    # A Markdown file gets a fenced block, so it renders wherever Markdown does.
    if format == "mermaid" and path.suffix.lower() == ".md":
        text = f"```mermaid\n{text}```\n"
    path.write_text(text, encoding="utf-8")
    logger.debug("Wrote the %s drawing to %s", format, path)
