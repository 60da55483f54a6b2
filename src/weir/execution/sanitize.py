"""Reported text the server refuses, made acceptable: a run's report must not fail for it.

A task may log a line of several megabytes, fail with an exception whose message
is longer than a state's message may be, or print text with lone surrogates
(bytes decoded with ``surrogateescape``, say). The API refuses all of these
(422), and a refused batch would take every line and state in it down with it —
and with them the run, whose final state is written only after its batches. So
the reporter sends batches as they are, and only when one is refused for its
content cleans every string in it and sends it once more:

- a lone surrogate becomes its escape as text (``\\udcff``), so nothing is hidden;
- a string longer than its field allows is cut, and says how much was cut;
- a NUL becomes U+FFFD, as the server stores it on PostgreSQL (an older server
  failed on it).

The limits are read off the API's own schemas, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import annotated_types
from pydantic import BaseModel

from weir.schemas import actions
from weir.schemas.states import StateData

#: Statuses that mean "this body's content is refused": sending it again unchanged fails again.
#: A 500 is among them once ``REPORT_DELIVERY`` has sent the body a few times: the server
#: keeps failing on it (an older server on a NUL, say), and cleaned it may go through.
REFUSED = frozenset({400, 413, 422, 500})


def max_length(model: type[BaseModel], field: str) -> int:
    """The ``max_length`` the API schema gives ``model.field``."""
    for rule in model.model_fields[field].metadata:
        if isinstance(rule, annotated_types.MaxLen):
            return int(rule.max_length)
    raise LookupError(f"{model.__name__}.{field} has no max_length")


#: Field limits by key, for each kind of batch (keys apply at any depth of an item).
LOG_LIMITS = {
    "message": max_length(actions.LogCreate, "message"),
    "name": max_length(actions.LogCreate, "name"),
}
STATE_LIMITS = {
    "message": max_length(StateData, "message"),
    "name": actions.TASK_RUN_NAME_LENGTH,
}
TRACE_LIMITS = {"kind": max_length(actions.TraceEventCreate, "kind")}


def clean(value: Any, limits: Mapping[str, int], limit: int | None = None) -> Any:
    """``value`` with every string made valid UTF-8 and cut to its key's limit."""
    if isinstance(value, str):
        return clean_text(value, limit)
    if isinstance(value, dict):
        return {_key(k): clean(v, limits, limits.get(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, limits) for v in value]
    return value


def _key(key: Any) -> Any:
    return clean_text(key) if isinstance(key, str) else key


def clean_text(text: str, limit: int | None = None) -> str:
    """``text`` without lone surrogates (escaped as text) or NUL (U+FFFD), cut to
    ``limit`` characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if limit is None or len(text) <= limit:
        return text
    room = 32  # for the note; grown if the count needs more digits
    while True:
        kept = max(0, limit - room)
        note = f" … [{len(text) - kept} characters cut]"
        if len(note) <= room:
            return text[:kept] + note[: limit - kept]
        room = len(note)
