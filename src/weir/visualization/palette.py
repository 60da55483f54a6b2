"""State colours, read from the UI's ``palette.css`` (the one place they are defined).

The stylesheet gives each colour family an ink and a tint (``--st-ok``,
``--st-ok-bg``) and each state type a family (``.st-Success { --st: var(--st-ok) … }``);
this module reads the light scheme's values so Mermaid text can colour its nodes the
way the run page does.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

from weir.visualization.assets import static_text

__all__ = ["StateColor", "UNKNOWN", "state_color", "state_colors"]


class StateColor(NamedTuple):
    """How a state is drawn: ``ink`` for text and outline, ``tint`` for the fill."""

    ink: str
    tint: str


_VARIABLE = re.compile(r"(--st-[\w-]+)\s*:\s*(#[0-9a-fA-F]{6})")
# ".st-Success, .st-Mapped { --st: var(--st-ok); --st-bg: var(--st-ok-bg); …}"
_RULE = re.compile(r"((?:\.st-\w+\s*,\s*)*\.st-\w+)\s*\{[^}]*?--st:\s*var\((--st-[\w-]+)\)")


@cache
def state_colors() -> dict[str, StateColor]:
    """State type (``"TriggerFailed"``, and ``"none"``) → its colours, light scheme."""
    css = static_text("palette.css")
    # The first :root block is the light scheme; the dark one sits in a media query.
    light = css[css.index(":root") : css.index("}", css.index(":root"))]
    values = dict(_VARIABLE.findall(light))
    colors: dict[str, StateColor] = {}
    for selectors, family in _RULE.findall(css):
        color = StateColor(values[family], values[family + "-bg"])
        for selector in selectors.split(","):
            colors[selector.strip().removeprefix(".st-")] = color
    return colors


#: For state types the palette does not know (added after it was written).
UNKNOWN = StateColor("#52525b", "#f4f4f5")


def state_color(state_type: str) -> StateColor:
    return state_colors().get(state_type, UNKNOWN)
