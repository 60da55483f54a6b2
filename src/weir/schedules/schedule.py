"""Schedule: clocks, then filters, then adjustments (Prefect 1's ``prefect.schedules.Schedule``).

``Schedule.next(n, after)`` merges the events of all clocks in time order, as
Prefect 1 does: clocks that fire at the same instant with the same parameter
defaults and labels make one event; with different ones, one event each, in the
order the clocks are listed (so two clocks can run a flow at 09:00 with two sets
of parameters). A schedule with no clocks has no events. It keeps an event when every ``filters``
entry, at least one ``or_filters`` entry (if any) and no ``not_filters`` entry
says yes, then passes its time through the ``adjustments`` in order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from weir.exceptions import ScheduleError
from weir.schedules.clocks import Clock, CronClock, IntervalClock, RRuleClock
from weir.schedules.events import ClockEvent
from weir.schedules.rrules import RRuleBase
from weir.schedules.zones import ensure_aware, now, to_utc

Filter = Callable[[datetime], bool]
Adjustment = Callable[[datetime], datetime]

#: ``next`` gives up after the filters reject this many candidates in a row, so a
#: schedule whose filters reject (nearly) everything returns fewer than ``n`` dates
#: instead of spinning.
MAX_REJECTED = 10_000


class Schedule:
    """When a flow runs: one or more clocks, filtered and adjusted."""

    def __init__(
        self,
        clocks: Iterable[Clock],
        filters: Iterable[Filter] | None = None,
        or_filters: Iterable[Filter] | None = None,
        not_filters: Iterable[Filter] | None = None,
        adjustments: Iterable[Adjustment] | None = None,
    ) -> None:
        self.clocks = _check_clocks(clocks)
        self.filters: list[Filter] = _check_callables("filters", filters)
        self.or_filters: list[Filter] = _check_callables("or_filters", or_filters)
        self.not_filters: list[Filter] = _check_callables("not_filters", not_filters)
        self.adjustments: list[Adjustment] = _check_callables("adjustments", adjustments)

    @property
    def start_date(self) -> datetime | None:
        """The earliest start date of the clocks, if any has one."""
        dates = [c.start_date for c in self.clocks if c.start_date is not None]
        return min(dates, key=to_utc) if dates else None

    @property
    def end_date(self) -> datetime | None:
        """The latest end date of the clocks, if any has one."""
        dates = [c.end_date for c in self.clocks if c.end_date is not None]
        return max(dates, key=to_utc) if dates else None

    def next(self, n: int, after: datetime | None = None, return_events: bool = False) -> list[Any]:
        """The next ``n`` run times strictly after ``after`` (default: now).

        With ``return_events=True`` the items are ``ClockEvent``s, carrying the
        parameter defaults and labels of the clock that made them.
        """
        after = now() if after is None else ensure_aware(after, "Schedule.next after")
        found: list[Any] = []
        if n <= 0:
            return found
        rejected = 0
        for event in self._clock_events(after):
            if not self._passes(event.start_time):
                rejected += 1
                if rejected >= MAX_REJECTED:
                    break
                continue
            rejected = 0
            start_time = self._adjust(event.start_time)
            if return_events:
                found.append(ClockEvent(start_time, event.parameter_defaults, event.labels))
            else:
                found.append(start_time)
            if len(found) == n:
                break
        return found

    def _clock_events(self, after: datetime) -> Iterator[ClockEvent]:
        """All clocks' events in time order, without repeats of one instant's same event."""
        # Merged by instant alone: with a key, heapq.merge breaks ties by input order,
        # so at a shared instant the events come in the order the clocks are listed.
        streams = (clock.events(after=after) for clock in self.clocks)
        merged = heapq.merge(*streams, key=lambda event: to_utc(event.start_time))
        last: datetime | None = None
        seen: list[ClockEvent] = []  # the events of instant `last` (a few at most)
        for event in merged:
            instant = to_utc(event.start_time)
            if instant != last:
                last, seen = instant, []
            if event not in seen:  # ClockEvent equality: instant, parameters and labels
                seen.append(event)
                yield event

    def _passes(self, dt: datetime) -> bool:
        if not all(keep(dt) for keep in self.filters):
            return False
        if self.or_filters and not any(keep(dt) for keep in self.or_filters):
            return False
        return not any(drop(dt) for drop in self.not_filters)

    def _adjust(self, dt: datetime) -> datetime:
        for adjustment in self.adjustments:
            dt = adjustment(dt)
        return dt

    def serialize(self) -> dict[str, Any]:
        """A JSON-able dict describing this schedule; ``Schedule.deserialize`` rebuilds it."""
        from weir.schedules.serialize import schedule_to_dict  # serialize imports this module

        return schedule_to_dict(self)

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Schedule:
        """Rebuild a schedule from ``serialize()``'s output (ValueError naming a bad field)."""
        from weir.schedules.serialize import schedule_from_dict

        return schedule_from_dict(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return _parts(self) == _parts(other)

    __hash__ = None  # type: ignore[assignment]  # mutable lists inside

    def __repr__(self) -> str:
        parts = [f"clocks={self.clocks!r}"]
        for name in ("filters", "or_filters", "not_filters", "adjustments"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)!r}")
        return f"Schedule({', '.join(parts)})"


def IntervalSchedule(  # Prefect 1 spells this constructor like a class
    start_date: datetime | None = None,
    interval: timedelta | None = None,
    end_date: datetime | None = None,
) -> Schedule:
    """A Schedule with one IntervalClock."""
    if interval is None:
        raise ScheduleError("IntervalSchedule needs an interval, e.g. interval=timedelta(hours=1).")
    return Schedule(clocks=[IntervalClock(interval, start_date=start_date, end_date=end_date)])


def CronSchedule(  # Prefect 1 spells this constructor like a class
    cron: str,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    day_or: bool | None = None,
) -> Schedule:
    """A Schedule with one CronClock."""
    return Schedule(
        clocks=[CronClock(cron, start_date=start_date, end_date=end_date, day_or=day_or)]
    )


def RRuleSchedule(  # Prefect 1 spells this constructor like a class
    rrule_obj: RRuleBase,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
) -> Schedule:
    """A Schedule with one RRuleClock."""
    return Schedule(clocks=[RRuleClock(rrule_obj, start_date=start_date, end_date=end_date)])


def _parts(schedule: Schedule) -> tuple[Any, ...]:
    return (
        schedule.clocks,
        schedule.filters,
        schedule.or_filters,
        schedule.not_filters,
        schedule.adjustments,
    )


def _check_clocks(clocks: Iterable[Clock]) -> list[Clock]:
    if isinstance(clocks, Clock) or not isinstance(clocks, Iterable):
        raise TypeError(f"Schedule clocks must be a list of clocks, got {clocks!r}.")
    checked = list(clocks)
    for index, clock in enumerate(checked):
        if not isinstance(clock, Clock):
            raise TypeError(
                f"Schedule clocks[{index}] is {clock!r}, not a clock; use IntervalClock, "
                "CronClock, DatesClock or RRuleClock."
            )
    return checked


def _check_callables(field: str, values: Iterable[Any] | None) -> list[Any]:
    if values is None:
        return []
    if callable(values) or not isinstance(values, Iterable):
        raise TypeError(f"Schedule {field} must be a list of callables, got {values!r}.")
    checked = list(values)
    for index, value in enumerate(checked):
        if not callable(value):
            raise TypeError(f"Schedule {field}[{index}] is {value!r}, which is not callable.")
    return checked
