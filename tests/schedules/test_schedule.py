from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

import weir.schedules as schedules
from weir.exceptions import ScheduleError
from weir.schedules import (
    ClockEvent,
    CronClock,
    CronSchedule,
    DatesClock,
    IntervalClock,
    IntervalSchedule,
    Schedule,
    adjustments,
    filters,
)

from .helpers import NEW_YORK, iso

UTC = timezone.utc
START = datetime(2024, 1, 1)  # a Monday
HOURLY = IntervalClock(timedelta(hours=1), start_date=START)
DAILY = IntervalClock(timedelta(days=1), start_date=START)


def test_the_package_exports_prefect_1_names():
    for name in ["Schedule", "IntervalClock", "CronClock", "DatesClock", "ClockEvent"]:
        assert hasattr(schedules, name)
    assert schedules.filters.is_weekday is filters.is_weekday
    assert schedules.adjustments.add is adjustments.add
    assert schedules.clocks.IntervalClock is IntervalClock


def test_next_returns_n_datetimes_after_after():
    assert iso(Schedule([HOURLY]).next(2, after=START)) == [
        "2024-01-01T01:00:00+00:00",
        "2024-01-01T02:00:00+00:00",
    ]


def test_next_defaults_to_now():
    (upcoming,) = Schedule([IntervalClock(timedelta(minutes=1))]).next(1)
    assert datetime.now(UTC) < upcoming <= datetime.now(UTC) + timedelta(minutes=1)


def test_next_of_zero_is_empty():
    assert Schedule([HOURLY]).next(0) == []


def test_clocks_are_merged_in_time_order():
    schedule = Schedule(
        [
            DatesClock([datetime(2024, 1, 1, 3, 30), datetime(2024, 1, 1, 0, 30)]),
            IntervalClock(timedelta(hours=2), start_date=START),
        ]
    )
    assert iso(schedule.next(4, after=START)) == [
        "2024-01-01T00:30:00+00:00",
        "2024-01-01T02:00:00+00:00",
        "2024-01-01T03:30:00+00:00",
        "2024-01-01T04:00:00+00:00",
    ]


def test_clocks_in_different_zones_merge_by_instant():
    schedule = Schedule(
        [
            CronClock("0 9 * * *", start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK)),  # 14:00 UTC
            CronClock("0 12 * * *"),
        ]
    )
    assert iso(schedule.next(2, after=START)) == [
        "2024-01-01T12:00:00+00:00",
        "2024-01-01T09:00:00-05:00",
    ]


def test_clocks_at_one_instant_with_other_parameters_give_one_event_each():
    # Prefect 1: events are unique by (time, parameter defaults, labels), in clock order.
    schedule = Schedule(
        [
            IntervalClock(timedelta(hours=2), START, parameter_defaults={"by": "two"}),
            IntervalClock(timedelta(hours=1), START, parameter_defaults={"by": "one"}),
            CronClock("0 */2 * * *", labels=["cron"]),
        ]
    )
    events = schedule.next(6, after=START, return_events=True)
    assert iso(events) == [
        "2024-01-01T01:00:00+00:00",
        "2024-01-01T02:00:00+00:00",
        "2024-01-01T02:00:00+00:00",
        "2024-01-01T02:00:00+00:00",
        "2024-01-01T03:00:00+00:00",
        "2024-01-01T04:00:00+00:00",
    ]
    assert [(e.parameter_defaults.get("by"), e.labels) for e in events] == [
        ("one", None),
        ("two", None),
        ("one", None),
        (None, ["cron"]),
        ("one", None),
        ("two", None),
    ]


def test_the_same_event_from_two_clocks_is_one_event():
    schedule = Schedule(
        [
            IntervalClock(timedelta(hours=2), START, parameter_defaults={"n": 1}),
            IntervalClock(timedelta(hours=1), START, parameter_defaults={"n": 1}),
            CronClock("0 */2 * * *", labels=["cron"]),
            CronClock("0 */4 * * *", labels=["cron"]),
        ]
    )
    events = schedule.next(5, after=START, return_events=True)
    assert iso(events) == [
        "2024-01-01T01:00:00+00:00",
        "2024-01-01T02:00:00+00:00",
        "2024-01-01T02:00:00+00:00",
        "2024-01-01T03:00:00+00:00",
        "2024-01-01T04:00:00+00:00",
    ]
    assert [e.labels for e in events] == [None, None, ["cron"], None, None]


def test_the_same_instant_in_two_zones_is_one_run():
    schedule = Schedule(
        [
            CronClock("0 9 * * *", start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK)),
            CronClock("0 14 * * *"),
        ]
    )
    assert len(schedule.next(3, after=START)) == 3
    assert len({d.date() for d in schedule.next(3, after=START)}) == 3


def test_return_events_gives_clock_events_with_parameters_and_labels():
    schedule = Schedule(
        [IntervalClock(timedelta(hours=1), START, parameter_defaults={"x": 1}, labels=["gpu"])]
    )
    (event,) = schedule.next(1, after=START, return_events=True)
    assert isinstance(event, ClockEvent)
    assert (event.parameter_defaults, event.labels) == ({"x": 1}, ["gpu"])


def test_filters_must_all_pass():
    schedule = Schedule([DAILY], filters=[filters.is_weekday, filters.is_month_end])
    assert iso(schedule.next(2, after=START)) == [
        "2024-01-31T00:00:00+00:00",
        "2024-02-29T00:00:00+00:00",
    ]


def test_one_or_filter_must_pass():
    schedule = Schedule([DAILY], or_filters=[filters.on_date(1, 3), filters.is_month_end])
    assert iso(schedule.next(3, after=START)) == [
        "2024-01-03T00:00:00+00:00",
        "2024-01-31T00:00:00+00:00",
        "2024-02-29T00:00:00+00:00",
    ]


def test_no_not_filter_may_pass():
    schedule = Schedule([DAILY], not_filters=[filters.is_weekend, filters.on_date(1, 2)])
    assert iso(schedule.next(3, after=START)) == [
        "2024-01-03T00:00:00+00:00",
        "2024-01-04T00:00:00+00:00",
        "2024-01-05T00:00:00+00:00",
    ]


def test_all_three_kinds_of_filter_together():
    # business hours on weekdays, every hour, except lunch
    schedule = Schedule(
        [HOURLY],
        filters=[filters.between_times(time(9), time(17))],
        or_filters=[filters.is_weekday, filters.on_date(1, 6)],
        not_filters=[filters.at_time(time(12))],
    )
    runs = schedule.next(100, after=datetime(2024, 1, 5, 16, 30))
    assert iso(runs[:3]) == [
        "2024-01-05T17:00:00+00:00",
        "2024-01-06T09:00:00+00:00",  # a Saturday, let in by on_date
        "2024-01-06T10:00:00+00:00",
    ]
    assert all(9 <= r.hour <= 17 and r.hour != 12 for r in runs)
    assert not any(r.day == 7 for r in runs)  # Sunday


def test_adjustments_apply_in_order_after_filtering():
    schedule = Schedule(
        [DAILY],
        filters=[filters.is_weekend],
        adjustments=[adjustments.next_weekday, adjustments.add(timedelta(hours=9))],
    )
    assert iso(schedule.next(2, after=START)) == [
        "2024-01-08T09:00:00+00:00",  # Saturday 6th -> Monday 8th, then +9h
        "2024-01-08T09:00:00+00:00",  # Sunday 7th, the same
    ]


def test_adjusted_events_keep_their_parameters():
    schedule = Schedule(
        [IntervalClock(timedelta(days=1), START, parameter_defaults={"a": 1})],
        adjustments=[adjustments.add(timedelta(minutes=5))],
    )
    (event,) = schedule.next(1, after=START, return_events=True)
    assert (event.start_time.minute, event.parameter_defaults) == (5, {"a": 1})


def test_a_filter_that_rejects_everything_gives_up_with_fewer_dates():
    schedule = Schedule([HOURLY], filters=[lambda dt: False])
    assert schedule.next(1, after=START) == []


def test_user_callables_work_as_filters():
    schedule = Schedule([HOURLY], filters=[lambda dt: dt.hour % 6 == 0])
    assert [d.hour for d in schedule.next(3, after=START)] == [6, 12, 18]


def test_a_finished_schedule_returns_what_is_left():
    schedule = Schedule([DatesClock([datetime(2024, 1, 2)])])
    assert len(schedule.next(5, after=START)) == 1


def test_start_and_end_dates_span_the_clocks():
    schedule = Schedule(
        [
            IntervalClock(timedelta(hours=1), datetime(2024, 2, 1), datetime(2024, 3, 1)),
            DatesClock([datetime(2024, 1, 15), datetime(2024, 2, 15)]),
            CronClock("* * * * *"),
        ]
    )
    assert schedule.start_date == datetime(2024, 1, 15, tzinfo=UTC)
    assert schedule.end_date == datetime(2024, 3, 1, tzinfo=UTC)
    assert Schedule([CronClock("* * * * *")]).start_date is None


def test_a_schedule_without_clocks_has_no_events():
    # As in Prefect 1: an empty schedule is allowed and simply never fires.
    empty = Schedule(clocks=[])
    assert empty.next(5, after=START) == []
    assert empty.start_date is None and empty.end_date is None
    assert Schedule.deserialize(empty.serialize()) == empty


def test_clocks_must_be_clocks():
    with pytest.raises(TypeError, match="clocks must be a list of clocks"):
        Schedule(HOURLY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"clocks\[0\] is 'hourly', not a clock"):
        Schedule(["hourly"])  # type: ignore[list-item]


def test_filters_and_adjustments_must_be_callable():
    with pytest.raises(TypeError, match=r"Schedule not_filters\[1\] is 3, which is not callable"):
        Schedule([HOURLY], not_filters=[filters.is_weekday, 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="adjustments must be a list of callables"):
        Schedule([HOURLY], adjustments=adjustments.next_weekday)  # type: ignore[arg-type]


def test_convenience_constructors():
    interval = IntervalSchedule(start_date=START, interval=timedelta(hours=1))
    assert interval == Schedule([HOURLY])
    cron = CronSchedule("0 0 * * *", start_date=START, day_or=False)
    assert cron.clocks == [CronClock("0 0 * * *", START, day_or=False)]
    with pytest.raises(ScheduleError, match="IntervalSchedule needs an interval"):
        IntervalSchedule(start_date=START)


def test_repr_names_the_parts():
    text = repr(Schedule([HOURLY], filters=[filters.is_weekday]))
    assert text.startswith("Schedule(clocks=[IntervalClock(") and "filters=[is_weekday]" in text


def test_many_dates_are_not_capped_when_the_filters_pass_them():
    assert len(Schedule([HOURLY]).next(12_000, after=START)) == 12_000


def test_gives_up_after_ten_thousand_rejections_in_a_row():
    # every other minute passes until the cutoff (9,999 of them), then none does: scattered
    # rejections never stop the search, 10,000 in a row do
    cutoff = START + timedelta(minutes=20_000)
    schedule = Schedule(
        [IntervalClock(timedelta(minutes=1), start_date=START)],
        filters=[lambda dt: dt.minute % 2 == 0 and dt.replace(tzinfo=None) < cutoff],
    )
    assert len(schedule.next(20_000, after=START)) == 9_999
