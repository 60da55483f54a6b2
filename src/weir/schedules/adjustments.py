"""Adjustments: move a run time that passed the filters.

Prefect 1's ``prefect.schedules.adjustments``.

An adjustment takes the event's datetime and returns a new one, in the same zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from weir.schedules.filters import is_weekday
from weir.schedules.rules import Rule
from weir.schedules.zones import add_absolute, add_wall_clock, plain_timedelta

__all__ = ["add", "next_weekday"]


def add(interval: timedelta) -> Rule:
    """Move each run time by ``interval`` of elapsed time (may be negative)."""
    if not isinstance(interval, timedelta):
        raise TypeError(f"adjustments.add interval must be a datetime.timedelta, got {interval!r}.")
    interval = plain_timedelta(interval)
    return Rule("add", {"interval": interval}, lambda d: add_absolute(d, interval))


def _next_weekday(d: datetime) -> datetime:
    # Whole days on the wall clock: a Saturday 09:00 run moves to Monday 09:00 local.
    days = 0
    while not is_weekday(d + timedelta(days=days)):
        days += 1
    return add_wall_clock(d, timedelta(days=days)) if days else d


#: Move a run time on a weekend to the same time on the next Monday.
next_weekday = Rule("next_weekday", {}, _next_weekday)
