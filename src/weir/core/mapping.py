"""Markers for arguments of ``Task.map``: ``unmapped``, ``mapped`` and ``flatten``."""

from __future__ import annotations

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
