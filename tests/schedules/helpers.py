"""Shared helpers for the schedule tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")

# 2024 transitions in New York: spring forward on March 10 at 02:00 (to 03:00 EDT),
# fall back on November 3 at 02:00 EDT (to 01:00 EST).


def iso(values: Iterable[Any]) -> list[str]:
    """ISO strings (with offsets) of datetimes or ClockEvents, so folds and zones show."""
    return [getattr(v, "start_time", v).isoformat() for v in values]


def first(clock: Any, n: int, after: datetime) -> list[str]:
    """The ISO strings of a clock's first ``n`` events after ``after``."""
    return iso(islice(clock.events(after=after), n))
