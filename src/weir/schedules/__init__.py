"""Schedules: when a registered flow runs (Prefect 1's ``prefect.schedules``).

``Schedule(clocks, filters, or_filters, not_filters, adjustments)``: clocks emit
candidate times, filters keep some, adjustments move them. ``Schedule.serialize``
and ``Schedule.deserialize`` turn one into JSON and back, for the server.
"""

from __future__ import annotations

from weir.schedules import adjustments, clocks, filters, schedules
from weir.schedules.clocks import Clock, CronClock, DatesClock, IntervalClock, RRuleClock
from weir.schedules.events import ClockEvent
from weir.schedules.schedule import CronSchedule, IntervalSchedule, RRuleSchedule, Schedule

__all__ = [
    "Clock",
    "ClockEvent",
    "CronClock",
    "CronSchedule",
    "DatesClock",
    "IntervalClock",
    "IntervalSchedule",
    "RRuleClock",
    "RRuleSchedule",
    "Schedule",
    "adjustments",
    "clocks",
    "filters",
    "schedules",
]


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
