"""Secret values this process has handed out, kept out of what it logs.

When a secret is read (``weir.client.secrets.Secret.get``), its value is
remembered here; the handler that sends log records to a run's log replaces
every occurrence of a remembered value with ``****`` before the line leaves the
process. Values shorter than four characters are not masked: they would blank
out ordinary words.

This module imports nothing of weir's, so every layer may use it.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["MASK", "known", "mask", "remember"]

MASK = "****"
_MIN_LENGTH = 4
_lock = threading.Lock()
#: Longest first, so a value that contains another is masked whole.
_values: tuple[str, ...] = ()


def remember(value: Any) -> None:
    """Mask ``value`` (and every string inside it, for a dict or list) from now on."""
    global _values
    found = [v for v in _strings(value) if len(v) >= _MIN_LENGTH]
    if not found:
        return
    with _lock:
        _values = tuple(sorted(set(_values) | set(found), key=len, reverse=True))


def known() -> tuple[str, ...]:
    """Every value masked so far (a worker process sends those a task read back to the
    run's process, see ``weir.engine.remote``)."""
    return _values


def mask(text: str) -> str:
    """``text`` with every remembered secret value replaced by ``****``."""
    values = _values
    if not values:
        return text
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bytes, bytearray)):
        return [bytes(value).decode("utf-8", errors="ignore")]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    return []


class MaskingFilter:
    """A logging filter that masks remembered secret values in a record's message.

    Put on the loggers tasks log through (a task's ``self.logger``, ``get_logger``),
    so a secret is masked wherever their records go, not only in the run's log.
    """

    def filter(self, record: Any) -> bool:
        if _values:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                return True
            masked = mask(message)
            if masked != message:
                record.msg, record.args = masked, ()
        return True


#: The one filter instance, so a logger is never given it twice.
MASKING_FILTER = MaskingFilter()
