"""ClockEvent: one candidate run time emitted by a clock, with its parameters and labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from weir.schedules.zones import to_utc


class ClockEvent:
    """A run time from a clock, with the parameter defaults and labels its runs get.

    Events order by their instant (in UTC, whatever the zone of ``start_time``).
    Two events are equal when they share the instant, the parameter defaults and
    the labels; an event also equals a datetime of the same instant.
    """

    __slots__ = ("start_time", "parameter_defaults", "labels")

    def __init__(
        self,
        start_time: datetime,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.start_time = start_time
        self.parameter_defaults: dict[str, Any] = dict(parameter_defaults or {})
        self.labels = list(labels) if labels is not None else None

    def _instant(self) -> datetime:
        return to_utc(self.start_time)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ClockEvent):
            return (
                self._instant() == other._instant()
                and self.parameter_defaults == other.parameter_defaults
                and self.labels == other.labels
            )
        if isinstance(other, datetime):
            return self._instant() == to_utc(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._instant())

    def __lt__(self, other: object) -> bool:
        instant = _instant_of(other)
        return NotImplemented if instant is None else self._instant() < instant

    def __le__(self, other: object) -> bool:
        instant = _instant_of(other)
        return NotImplemented if instant is None else self._instant() <= instant

    def __gt__(self, other: object) -> bool:
        instant = _instant_of(other)
        return NotImplemented if instant is None else self._instant() > instant

    def __ge__(self, other: object) -> bool:
        instant = _instant_of(other)
        return NotImplemented if instant is None else self._instant() >= instant

    def __repr__(self) -> str:
        extra = ""
        if self.parameter_defaults:
            extra += f", parameter_defaults={self.parameter_defaults!r}"
        if self.labels is not None:
            extra += f", labels={self.labels!r}"
        return f"ClockEvent({self.start_time.isoformat()}{extra})"


def _instant_of(value: object) -> datetime | None:
    """The UTC instant of an event or datetime; None for anything else."""
    if isinstance(value, ClockEvent):
        return value._instant()
    if isinstance(value, datetime):
        return to_utc(value)
    return None
