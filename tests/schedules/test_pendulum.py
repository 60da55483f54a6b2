"""Prefect 1 flows build schedules from pendulum datetimes: every clock, filter and
adjustment takes them, and what comes out is plain, aware ``datetime``s in the same zone."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from weir.schedules import (
    CronClock,
    DatesClock,
    IntervalClock,
    RRuleClock,
    Schedule,
    adjustments,
    filters,
)
from weir.schedules.zones import UTC, ensure_aware

from .helpers import NEW_YORK, first, iso

pendulum = pytest.importorskip("pendulum")

START = pendulum.datetime(2024, 3, 8, 9, tz="America/New_York")  # a Friday, before DST starts
AFTER = pendulum.datetime(2024, 3, 8, tz="UTC")


@pytest.mark.parametrize(
    "clock",
    [
        IntervalClock(timedelta(hours=12), start_date=START),
        IntervalClock(timedelta(days=1), start_date=START),
        CronClock("0 9 * * *", start_date=START),
    ],
    ids=["interval", "daily", "cron"],
)
def test_clocks_take_a_pendulum_start_date_and_keep_its_zone(clock):
    events = first(clock, 5, after=AFTER)
    assert events[0] == "2024-03-08T09:00:00-05:00"
    assert events[-1].endswith("-04:00")  # March 10 is after the change: the zone's rules apply
    assert clock.start_date.tzinfo == NEW_YORK
    assert type(clock.start_date) is datetime


def test_a_daily_pendulum_clock_keeps_9am_across_dst():
    assert first(IntervalClock(timedelta(days=1), start_date=START), 3, after=AFTER) == [
        "2024-03-08T09:00:00-05:00",
        "2024-03-09T09:00:00-05:00",
        "2024-03-10T09:00:00-04:00",
    ]


def test_dates_clock_end_date_and_after_take_pendulum():
    clock = DatesClock([START, START.add(days=1)])
    assert iso(clock.events(after=pendulum.datetime(2024, 3, 8, 14, 30, tz="UTC"))) == [
        "2024-03-09T09:00:00-05:00"
    ]
    ended = IntervalClock(timedelta(days=1), start_date=START, end_date=START.add(days=1))
    assert len(list(ended.events(after=AFTER))) == 2


def test_rrule_clock_takes_a_pendulum_dtstart():
    from dateutil import rrule

    clock = RRuleClock(rrule.rrule(rrule.DAILY, count=2, dtstart=START))
    assert first(clock, 5, after=AFTER) == [
        "2024-03-08T09:00:00-05:00",
        "2024-03-09T09:00:00-05:00",
    ]


def test_fixed_offsets_utc_and_naive_pendulum_values():
    fixed = pendulum.datetime(2024, 1, 1, 9, tz=pendulum.fixed_timezone(5 * 3600))
    assert ensure_aware(fixed, "x").isoformat() == "2024-01-01T09:00:00+05:00"
    assert ensure_aware(pendulum.datetime(2024, 1, 1), "x").tzinfo is UTC
    naive = ensure_aware(pendulum.naive(2024, 1, 1), "x")
    assert (naive.tzinfo, naive.fold) == (UTC, 0)


def test_a_folded_pendulum_time_keeps_its_instant():
    second = pendulum.datetime(2024, 11, 3, 6, 30, tz="UTC").in_tz("America/New_York")
    plain = ensure_aware(second, "x")
    assert plain.isoformat() == "2024-11-03T01:30:00-05:00"
    assert plain.fold == 1


def test_schedule_next_with_pendulum_after_filters_and_adjustments():
    schedule = Schedule(
        [IntervalClock(timedelta(hours=1), start_date=START)],
        filters=[filters.is_weekday, filters.between_times(time(9), time(10))],
        not_filters=[filters.between_datetimes(START.add(hours=1), START.add(hours=1))],
        adjustments=[adjustments.add(timedelta(minutes=5))],
    )
    assert iso(schedule.next(2, after=pendulum.datetime(2024, 3, 8, 13, tz="UTC"))) == [
        "2024-03-08T09:05:00-05:00",
        "2024-03-11T09:05:00-04:00",
    ]


def test_filters_and_adjustments_called_with_pendulum_values():
    saturday = pendulum.datetime(2024, 3, 9, 9, tz="America/New_York")
    assert filters.is_weekend(saturday) and not filters.is_weekday(saturday)
    assert filters.on_datetime(saturday)(saturday)
    assert filters.at_time(time(9))(saturday)
    assert adjustments.next_weekday(saturday).isoformat() == "2024-03-11T09:00:00-04:00"
    assert adjustments.add(timedelta(hours=1))(saturday) == saturday.add(hours=1)


def test_a_pendulum_schedule_serializes_with_its_zone():
    schedule = Schedule([IntervalClock(timedelta(days=1), start_date=START)])
    data = json.loads(json.dumps(schedule.serialize()))
    assert data["clocks"][0]["start_date"] == "2024-03-08T09:00:00-05:00[America/New_York]"
    again = Schedule.deserialize(data)
    assert again == schedule
    assert again.clocks[0].start_date == datetime(
        2024, 3, 8, 9, tzinfo=ZoneInfo("America/New_York")
    )


def test_pendulum_durations_work_as_intervals():
    clock = IntervalClock(pendulum.duration(hours=12), start_date=START)
    assert type(clock.interval) is timedelta and clock.interval == timedelta(hours=12)
    shift = adjustments.add(pendulum.duration(minutes=5))
    assert shift(START).isoformat() == "2024-03-08T09:05:00-05:00"
    data = Schedule([clock], adjustments=[shift]).serialize()
    assert data["clocks"][0]["interval"] == 43200
    assert data["adjustments"] == [{"name": "add", "args": {"interval": 300}}]
