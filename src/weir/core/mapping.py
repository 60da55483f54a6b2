"""Markers for arguments of ``Task.map``: ``unmapped``, ``mapped`` and ``flatten``.

Also the build-time scope ``apply_map`` sets, which makes task arguments mapped by
default (see ``MapScope``).
"""

from __future__ import annotations

import contextvars
from typing import Any


class unmapped:
    """Pass this argument whole to every mapped child instead of mapping over it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class mapped:
    """Map over this argument even when calling the task normally (not with ``.map``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class flatten:
    """Map over the items of a list of lists, flattened by one level."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class MapScope:
    """While ``apply_map`` builds its function's tasks: how edges from each task are made.

    Inside the scope a task passed to a task call is mapped over by default (each
    child of a task made inside pairs with the same child upstream), except the
    ``unmapped`` arguments of ``apply_map``; ``flattened`` ones are also flattened.
    """

    __slots__ = ("unmapped", "flattened")

    def __init__(self, unmapped: set[Any], flattened: set[Any]) -> None:
        self.unmapped = unmapped
        self.flattened = flattened


#: The innermost active MapScope (build time only).
map_scope: contextvars.ContextVar[MapScope | None] = contextvars.ContextVar(
    "weir_map_scope", default=None
)
