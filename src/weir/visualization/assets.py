"""The UI's static files that a drawing made in Python shares with the run page.

They are read as package data from ``weir/server/ui/static`` (no server module is
imported): the layout (``dag.js``), the page helpers it uses (``weir.js``), the state
palette (``palette.css``) and the stylesheet (``weir.css``). One copy of each, so the
graph ``flow.visualize()`` draws is the graph the UI draws.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

__all__ = ["static_text"]


@cache
def static_text(name: str) -> str:
    """The text of one of the UI's static files, e.g. ``"dag.js"``."""
    return files("weir").joinpath("server", "ui", "static", name).read_text(encoding="utf-8")
