"""How the CLI shows states: a colour and a symbol each, so colour is never the only cue."""

from __future__ import annotations

from rich.text import Text

STATE_STYLES: dict[str, tuple[str, str]] = {
    "Success": ("green", "✔"),
    "Cached": ("cyan", "✔"),
    "Mapped": ("green", "⧉"),
    "Skipped": ("bright_black", "↷"),
    "Failed": ("red", "✘"),
    "TriggerFailed": ("dark_orange", "✘"),
    "TimedOut": ("red3", "⏱"),
    "Cancelled": ("grey50", "⊘"),
    "Cancelling": ("grey50", "…"),
    "Running": ("blue", "▶"),
    "Submitted": ("blue", "⇢"),
    "Pending": ("grey50", "·"),
    "Scheduled": ("yellow", "◷"),
    "Retrying": ("orange1", "↻"),
    "Paused": ("yellow", "⏸"),
    "Looped": ("magenta", "↺"),
}


def state_text(name: str) -> Text:
    style, symbol = STATE_STYLES.get(name, ("white", "?"))
    return Text(f"{symbol} {name}", style=style)
