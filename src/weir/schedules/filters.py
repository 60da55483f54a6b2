"""Filters: predicates on a candidate run time (Prefect 1's ``prefect.schedules.filters``).

A filter takes the event's datetime, expressed in its clock's zone, and returns
True to keep it. Date and time filters read that local wall clock:
``at_time(time(9))`` means 09:00 where the clock lives. Factories
(``at_time(...)``) return a filter; the ``is_*`` filters are used as they are.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from weir.exceptions import ScheduleError
from weir.schedules.rules import Rule
from weir.schedules.zones import ensure_aware, to_utc

__all__ = [
    "at_time",
    "between_dates",
    "between_datetimes",
    "between_times",
    "is_day_of_week",
    "is_month_end",
    "is_month_start",
    "is_weekday",
    "is_weekend",
    "on_date",
    "on_datetime",
]


def on_datetime(dt: datetime) -> Rule:
    """Keep only the event at exactly this instant (a naive ``dt`` means UTC)."""
    instant = to_utc(ensure_aware(dt, "on_datetime dt"))
    return Rule("on_datetime", {"dt": dt}, lambda d: to_utc(d) == instant)


def on_date(month: int, day: int) -> Rule:
    """Keep events on this day of the year, e.g. ``on_date(12, 25)``."""
    _check_month_day("on_date", month, day)
    return Rule("on_date", {"month": month, "day": day}, lambda d: (d.month, d.day) == (month, day))


def at_time(t: time) -> Rule:
    """Keep events at exactly this wall-clock time, e.g. ``at_time(time(4))`` for 04:00."""
    wall = _check_time("at_time", "t", t)
    return Rule("at_time", {"t": t}, lambda d: d.time() == wall)


def between_datetimes(start: datetime, end: datetime) -> Rule:
    """Keep events from ``start`` to ``end``, both included (naive means UTC)."""
    low = to_utc(ensure_aware(start, "between_datetimes start"))
    high = to_utc(ensure_aware(end, "between_datetimes end"))
    if high < low:
        raise ScheduleError(
            f"between_datetimes end {end.isoformat()} is before start {start.isoformat()}; "
            "swap them."
        )
    return Rule(
        "between_datetimes", {"start": start, "end": end}, lambda d: low <= to_utc(d) <= high
    )


def between_times(start: time, end: time) -> Rule:
    """Keep events whose wall-clock time is in [start, end]; an end before start wraps midnight."""
    low = _check_time("between_times", "start", start)
    high = _check_time("between_times", "end", end)

    def keep(d: datetime) -> bool:
        t = d.time()
        if low <= high:
            return low <= t <= high
        return t >= low or t <= high  # e.g. 22:00 to 02:00

    return Rule("between_times", {"start": start, "end": end}, keep)


def between_dates(start_month: int, start_day: int, end_month: int, end_day: int) -> Rule:
    """Keep events between two days of each year, both included; a later start wraps the year.

    ``between_dates(10, 15, 3, 31)`` keeps October 15 to March 31.
    """
    _check_month_day("between_dates start", start_month, start_day)
    _check_month_day("between_dates end", end_month, end_day)
    low, high = (start_month, start_day), (end_month, end_day)

    def keep(d: datetime) -> bool:
        day = (d.month, d.day)
        if low <= high:
            return low <= day <= high
        return day >= low or day <= high

    arguments = {
        "start_month": start_month,
        "start_day": start_day,
        "end_month": end_month,
        "end_day": end_day,
    }
    return Rule("between_dates", arguments, keep)


def is_day_of_week(day_of_week: int) -> Rule:
    """Keep events on one day of the week: 0 is Monday, 6 is Sunday."""
    if not isinstance(day_of_week, int) or not 0 <= day_of_week <= 6:
        raise ScheduleError(
            f"is_day_of_week day_of_week must be an integer from 0 (Monday) to 6 (Sunday), "
            f"got {day_of_week!r}."
        )
    return Rule(
        "is_day_of_week", {"day_of_week": day_of_week}, lambda d: d.weekday() == day_of_week
    )


def _is_weekday(d: datetime) -> bool:
    return d.weekday() < 5


def _is_weekend(d: datetime) -> bool:
    return d.weekday() >= 5


def _is_month_end(d: datetime) -> bool:
    return (d.date() + timedelta(days=1)).month != d.month


def _is_month_start(d: datetime) -> bool:
    return d.day == 1


#: Keep events Monday to Friday.
is_weekday = Rule("is_weekday", {}, _is_weekday)
#: Keep events on Saturday and Sunday.
is_weekend = Rule("is_weekend", {}, _is_weekend)
#: Keep events on the last day of a month.
is_month_end = Rule("is_month_end", {}, _is_month_end)
#: Keep events on the first day of a month.
is_month_start = Rule("is_month_start", {}, _is_month_start)


def _check_month_day(name: str, month: int, day: int) -> None:
    ok = isinstance(month, int) and isinstance(day, int) and 1 <= month <= 12
    if ok:
        try:
            date(2024, month, day)  # a leap year, so February 29 is allowed
        except ValueError:
            ok = False
    if not ok:
        raise ScheduleError(
            f"{name} month/day {month!r}/{day!r} is not a day of the year; "
            "pass a month from 1 to 12 and a day that month has."
        )


def _check_time(name: str, field: str, value: time) -> time:
    if not isinstance(value, time):
        raise TypeError(f"{name} {field} must be a datetime.time, got {value!r}.")
    if value.tzinfo is not None:
        raise ScheduleError(
            f"{name} {field} {value!r} has a time zone; filters read the wall clock of the "
            "clock's zone, so pass a naive time and put the zone on the clock's start_date."
        )
    return value
