"""Clocks: sources of candidate run times (Prefect 1's ``prefect.schedules.clocks``).

A clock's ``events(after=None)`` yields ``ClockEvent``s strictly after ``after``
(default: now), in increasing order, never before its ``start_date`` nor after
its ``end_date``. Events are expressed in the zone of the clock's start date
(UTC when there is none).

Daylight saving time, as in Prefect 1:

- ``IntervalClock`` with an interval of a day or more keeps the wall-clock time
  of its start date (a daily 09:00 run stays at 09:00 local). A wall time that
  does not exist that day is moved forward by the gap (02:30 -> 03:30); an
  ambiguous one means its first occurrence.
- ``IntervalClock`` with a shorter interval steps elapsed time: an hourly clock
  fires every 60 minutes, so on a fall-back night two runs read 01:00 local.
- ``CronClock`` follows the wall clock: it fires the first time a matching wall
  time is reached (a fall-back night's repeated hour does not fire again), and a
  job due in a spring-forward gap fires once, at the instant the gap ends
  (cron's rule: ``0 2 * * *`` runs at 03:00 that day).
- ``RRuleClock`` follows the wall clock of its rule's ``dtstart`` zone, like a
  daily ``IntervalClock`` (a skipped wall time moves forward by the gap).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from croniter import CroniterBadDateError, croniter

from weir.exceptions import ScheduleError
from weir.schedules.events import ClockEvent
from weir.schedules.rrules import RRuleBase, rrule_parts
from weir.schedules.zones import (
    UTC,
    add_absolute,
    add_wall_clock,
    ensure_aware,
    localize_gap_end,
    localize_shift,
    now,
    plain_timedelta,
    to_utc,
)

logger = logging.getLogger(__name__)

#: Where an IntervalClock without a start date counts from (Prefect 1's default).
DEFAULT_START = datetime(2019, 1, 1, tzinfo=UTC)

#: Intervals at least this long keep the wall-clock time across DST changes.
WALL_CLOCK_INTERVAL = timedelta(days=1)


class Clock:
    """Base class: the dates bounding a clock and what its events carry."""

    def __init__(
        self,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        parameter_defaults: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        name = type(self).__name__
        self.start_date = (
            None if start_date is None else ensure_aware(start_date, f"{name} start_date")
        )
        self.end_date = None if end_date is None else ensure_aware(end_date, f"{name} end_date")
        if self.start_date and self.end_date and to_utc(self.end_date) < to_utc(self.start_date):
            raise ScheduleError(
                f"{name} end_date {self.end_date.isoformat()} is before its start_date "
                f"{self.start_date.isoformat()}; swap them or drop the end_date.",
                field="end_date",
            )
        self.parameter_defaults = _check_parameter_defaults(name, parameter_defaults)
        self.labels = _check_labels(name, labels)

    def events(self, after: datetime | None = None) -> Iterator[ClockEvent]:
        """Yield the clock's events strictly after ``after`` (default: now), in order."""
        raise NotImplementedError(f"{type(self).__name__} must implement events().")

    def _event(self, start_time: datetime) -> ClockEvent:
        return ClockEvent(start_time, self.parameter_defaults, self.labels)

    def _after(self, after: datetime | None) -> datetime:
        """``after`` as a UTC instant (default: now)."""
        return now() if after is None else to_utc(ensure_aware(after, "after"))

    def _past_end(self, instant: datetime) -> bool:
        return self.end_date is not None and to_utc(instant) > to_utc(self.end_date)

    def _fields(self) -> tuple[Any, ...]:
        return (self.start_date, self.end_date, self.parameter_defaults, self.labels)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Clock)
        return _comparable(self._fields()) == _comparable(other._fields())

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._fields()!r}"


class IntervalClock(Clock):
    """Fires every ``interval`` from ``start_date`` (default 2019-01-01 00:00 UTC)."""

    def __init__(
        self,
        interval: timedelta,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        parameter_defaults: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(interval, timedelta):
            raise TypeError(
                f"IntervalClock interval must be a datetime.timedelta, got "
                f"{type(interval).__name__} {interval!r}; pass e.g. timedelta(hours=1)."
            )
        if interval <= timedelta(0):
            raise ScheduleError(
                f"IntervalClock interval must be greater than 0, got {interval!r}; "
                "pass a positive timedelta such as timedelta(minutes=15).",
                field="interval",
            )
        self.interval = plain_timedelta(interval)
        super().__init__(start_date, end_date, parameter_defaults, labels)

    @property
    def keeps_wall_clock(self) -> bool:
        """True when the interval is a day or more, so events keep the start's local time."""
        return self.interval >= WALL_CLOCK_INTERVAL

    def events(self, after: datetime | None = None) -> Iterator[ClockEvent]:
        after_utc = self._after(after)
        start = self.start_date or DEFAULT_START
        index = self._first_index(start, after_utc)
        while True:
            try:
                at = self._nth(start, index)
            except OverflowError:
                return  # past datetime.max: no more representable events
            if self._past_end(at):
                return
            if to_utc(at) > after_utc:
                yield self._event(at)
            index += 1

    def _nth(self, start: datetime, index: int) -> datetime:
        step = self.interval * index
        if self.keeps_wall_clock:
            return add_wall_clock(start, step)
        return add_absolute(start, step)

    def _first_index(self, start: datetime, after_utc: datetime) -> int:
        """An index at or just before the first event after ``after_utc`` (never past it)."""
        if self.keeps_wall_clock:
            # Count on the wall clock; one step back covers any DST offset (hours < a day).
            wall_after = after_utc.astimezone(start.tzinfo).replace(tzinfo=None)
            elapsed = wall_after - start.replace(tzinfo=None)
            return max(0, elapsed // self.interval - 1)
        return max(0, (after_utc - to_utc(start)) // self.interval)

    def _fields(self) -> tuple[Any, ...]:
        return (self.interval, *super()._fields())


class CronClock(Clock):
    """Fires at the times a cron string matches, on the wall clock of the start date's zone."""

    def __init__(
        self,
        cron: str,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        parameter_defaults: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
        day_or: bool | None = None,
    ) -> None:
        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise ScheduleError(
                f"CronClock cron string {cron!r} is not a valid cron expression; use five "
                "fields 'minute hour day-of-month month day-of-week', e.g. '0 9 * * 1-5'.",
                field="cron",
            )
        self.cron = cron
        # True (cron's rule): day-of-month and day-of-week are ORed; False ANDs them.
        self.day_or = True if day_or is None else bool(day_or)
        super().__init__(start_date, end_date, parameter_defaults, labels)

    def events(self, after: datetime | None = None) -> Iterator[ClockEvent]:
        after_utc = self._after(after)
        zone = self.start_date.tzinfo if self.start_date else UTC
        begin = after_utc
        if self.start_date is not None:
            # Start one second early so the start date itself fires when it matches.
            begin = max(begin, to_utc(self.start_date) - timedelta(seconds=1))
        # croniter walks naive wall-clock times; DST is resolved here, one time at a time.
        walker = croniter(
            self.cron, begin.astimezone(zone).replace(tzinfo=None), day_or=self.day_or
        )
        last: datetime | None = None
        while True:
            try:
                wall = walker.get_next(datetime)
            except CroniterBadDateError:
                return  # the expression matches no further date (e.g. 30 February)
            at = localize_gap_end(wall, zone)
            instant = to_utc(at)
            if self._past_end(at):
                return
            if instant <= after_utc or (last is not None and instant <= last):
                continue  # already past, or a gap/fold time that collapsed onto an earlier one
            if self.start_date is not None and instant < to_utc(self.start_date):
                continue
            last = instant
            yield self._event(at)

    def _fields(self) -> tuple[Any, ...]:
        return (self.cron, self.day_or, *super()._fields())


class DatesClock(Clock):
    """Fires once at each of the given dates."""

    def __init__(
        self,
        dates: Iterable[datetime],
        parameter_defaults: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        if isinstance(dates, datetime) or not isinstance(dates, Iterable):
            raise TypeError(
                f"DatesClock dates must be a list of datetimes, got {dates!r}; "
                "wrap a single date in a list."
            )
        checked = [ensure_aware(d, f"DatesClock dates[{i}]") for i, d in enumerate(dates)]
        if not checked:
            raise ScheduleError("DatesClock needs at least one date; pass a non-empty list.")
        self.dates = sorted(checked, key=to_utc)
        super().__init__(self.dates[0], self.dates[-1], parameter_defaults, labels)

    def events(self, after: datetime | None = None) -> Iterator[ClockEvent]:
        after_utc = self._after(after)
        for date in self.dates:
            if to_utc(date) > after_utc:
                yield self._event(date)

    def _fields(self) -> tuple[Any, ...]:
        return (self.dates, self.parameter_defaults, self.labels)


def _check_parameter_defaults(clock: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise TypeError(
            f"{clock} parameter_defaults must be a dict of parameter name to value, got {value!r}."
        )
    return dict(value)


def _check_labels(clock: str, value: Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    labels = None if isinstance(value, str) else list(value)
    if labels is None or not all(isinstance(label, str) for label in labels):
        raise TypeError(f"{clock} labels must be a list of strings, got {value!r}.")
    return labels


def _comparable(value: Any) -> Any:
    """Replace datetimes by (UTC instant, zone) so equality sees folds and zones."""
    if isinstance(value, datetime):
        return (to_utc(value), str(value.tzinfo))
    if isinstance(value, (list, tuple)):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _comparable(v)) for k, v in sorted(value.items()))
    return value


class RRuleClock(Clock):
    """Fires at the times of a dateutil ``rrule`` or ``rruleset`` (iCalendar recurrence rules).

    A rule with naive dates speaks UTC (as in Prefect 1); one whose ``dtstart`` has a
    zone follows that zone's wall clock, a time skipped by DST moving forward by the
    gap as for daily interval clocks. ``start_date`` and ``end_date`` bound the events
    further, as for every clock.
    """

    def __init__(
        self,
        rrule_obj: RRuleBase,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        parameter_defaults: Mapping[str, Any] | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(rrule_obj, RRuleBase):
            raise TypeError(
                f"RRuleClock rrule_obj must be a dateutil rrule or rruleset, got "
                f"{type(rrule_obj).__name__} {rrule_obj!r}; pass e.g. "
                "rrule.rrule(rrule.WEEKLY, byweekday=rrule.MO, dtstart=datetime(2024, 1, 1, 9))."
            )
        self.rrule_obj = rrule_obj
        super().__init__(start_date, end_date, parameter_defaults, labels)

    def events(self, after: datetime | None = None) -> Iterator[ClockEvent]:
        after_utc = self._after(after)
        if self.start_date is not None:
            after_utc = max(after_utc, to_utc(self.start_date) - timedelta(microseconds=1))
        first = next(iter(self.rrule_obj), None)
        if first is None:
            return
        # Ask the rule from a day early, in its own terms (naive UTC or its zone), and
        # compare exactly here: rrule compares same-zone times by wall clock, blind to folds.
        begin = after_utc - timedelta(days=1)
        if first.tzinfo is None:
            begin = begin.replace(tzinfo=None)
        else:
            begin = begin.astimezone(first.tzinfo)
        last: datetime | None = None
        for found in self.rrule_obj.xafter(begin, inc=True):
            at = _rule_time(found)
            instant = to_utc(at)
            if self._past_end(at):
                return
            if instant <= after_utc or (last is not None and instant <= last):
                continue  # already past, or a gap time that moved onto the next one
            last = instant
            yield self._event(at)

    def _fields(self) -> tuple[Any, ...]:
        return (rrule_parts(self.rrule_obj), *super()._fields())


def _rule_time(found: datetime) -> datetime:
    """A time from an rrule as an aware datetime: naive is UTC, a skipped wall time moves on."""
    if found.tzinfo is None:
        return found.replace(tzinfo=UTC)
    aware = ensure_aware(found, "rrule time")
    return localize_shift(aware.replace(tzinfo=None), aware.tzinfo)
