"""Rule: a filter or adjustment that remembers how it was made.

Prefect 1's filters and adjustments are closures, which cannot be stored. weir's
are ``Rule`` objects: callables that also carry the name of the factory that made
them and its arguments, which is all ``serialize`` needs to write them down and
rebuild them. A rule is given its datetime through ``zones.ensure_aware``, so it
reads a plain, aware ``datetime`` whatever the caller passed. Any other callable
still works in a Schedule; it just cannot be serialized.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from weir.schedules.zones import ensure_aware


class Rule:
    """A named, serializable callable taking a datetime (a filter or an adjustment)."""

    __slots__ = ("name", "arguments", "_function")

    def __init__(self, name: str, arguments: dict[str, Any], function: Callable[[Any], Any]):
        self.name = name
        self.arguments = arguments
        self._function = function

    def __call__(self, dt: Any) -> Any:
        # Any aware datetime may come in (pendulum's too); the rule sees a plain one.
        return self._function(ensure_aware(dt, f"{self.name}'s datetime"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rule):
            return NotImplemented
        return (self.name, self.arguments) == (other.name, other.arguments)

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        if not self.arguments:
            return self.name
        args = ", ".join(f"{key}={value!r}" for key, value in self.arguments.items())
        return f"{self.name}({args})"
