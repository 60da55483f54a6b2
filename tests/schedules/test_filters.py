from __future__ import annotations

from datetime import datetime, time, timezone

import pytest

from weir.exceptions import ScheduleError
from weir.schedules import filters

from .helpers import NEW_YORK

UTC = timezone.utc


def test_on_datetime_matches_the_instant_whatever_the_zone():
    keep = filters.on_datetime(datetime(2024, 1, 1, 14))  # naive: UTC
    assert keep(datetime(2024, 1, 1, 9, tzinfo=NEW_YORK))
    assert not keep(datetime(2024, 1, 1, 14, tzinfo=NEW_YORK))


def test_on_date():
    keep = filters.on_date(12, 25)
    assert keep(datetime(2030, 12, 25, 23, 59))
    assert not keep(datetime(2030, 12, 26))


def test_on_date_accepts_leap_day_and_names_an_impossible_day():
    assert filters.on_date(2, 29)(datetime(2024, 2, 29))
    with pytest.raises(ScheduleError, match="on_date month/day 2/30 is not a day of the year"):
        filters.on_date(2, 30)
    with pytest.raises(ScheduleError, match="on_date month/day 13/1"):
        filters.on_date(13, 1)


def test_at_time_reads_the_wall_clock_of_the_events_zone():
    keep = filters.at_time(time(9))
    assert keep(datetime(2024, 1, 1, 9, tzinfo=NEW_YORK))
    assert not keep(datetime(2024, 1, 1, 9, 0, 1, tzinfo=NEW_YORK))
    assert not keep(datetime(2024, 1, 1, 14, tzinfo=UTC))


def test_at_time_refuses_an_aware_time():
    with pytest.raises(ScheduleError, match="at_time t .* has a time zone"):
        filters.at_time(time(9, tzinfo=UTC))
    with pytest.raises(TypeError, match="at_time t must be a datetime.time"):
        filters.at_time("09:00")  # type: ignore[arg-type]


def test_between_times():
    keep = filters.between_times(time(9), time(17))
    assert [keep(datetime(2024, 1, 1, h)) for h in (8, 9, 12, 17, 18)] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_between_times_wraps_midnight():
    keep = filters.between_times(time(22), time(2))
    assert [keep(datetime(2024, 1, 1, h)) for h in (21, 22, 23, 0, 2, 3)] == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]


def test_between_dates():
    keep = filters.between_dates(3, 1, 5, 31)
    days = [(2, 29), (3, 1), (4, 15), (5, 31), (6, 1)]
    assert [keep(datetime(2024, m, d)) for m, d in days] == [False, True, True, True, False]


def test_between_dates_wraps_the_year():
    keep = filters.between_dates(10, 15, 3, 31)
    days = [(10, 14), (10, 15), (12, 31), (1, 1), (3, 31), (4, 1)]
    assert [keep(datetime(2024, m, d)) for m, d in days] == [False, True, True, True, True, False]


def test_between_dates_names_a_bad_day():
    with pytest.raises(ScheduleError, match="between_dates end month/day 4/31"):
        filters.between_dates(1, 1, 4, 31)


def test_between_datetimes_includes_both_ends():
    keep = filters.between_datetimes(datetime(2024, 1, 1), datetime(2024, 1, 2))
    assert keep(datetime(2024, 1, 1)) and keep(datetime(2024, 1, 2))
    assert not keep(datetime(2024, 1, 2, 0, 0, 1))
    assert keep(datetime(2024, 1, 1, 18, tzinfo=NEW_YORK))  # 23:00 UTC
    with pytest.raises(ScheduleError, match="between_datetimes end .* is before start"):
        filters.between_datetimes(datetime(2024, 1, 2), datetime(2024, 1, 1))


def test_weekday_and_weekend():
    friday, saturday, sunday, monday = (datetime(2024, 1, d) for d in (5, 6, 7, 8))
    assert [filters.is_weekday(d) for d in (friday, saturday, sunday, monday)] == [
        True,
        False,
        False,
        True,
    ]
    assert [filters.is_weekend(d) for d in (friday, saturday, sunday, monday)] == [
        False,
        True,
        True,
        False,
    ]


def test_weekday_is_read_in_the_events_zone():
    # Saturday 01:00 UTC is still Friday evening in New York.
    assert filters.is_weekday(datetime(2024, 1, 6, 1, tzinfo=UTC).astimezone(NEW_YORK))


def test_day_of_week():
    assert filters.is_day_of_week(0)(datetime(2024, 1, 8))  # Monday
    assert not filters.is_day_of_week(0)(datetime(2024, 1, 9))
    with pytest.raises(ScheduleError, match="day_of_week must be an integer from 0"):
        filters.is_day_of_week(7)


@pytest.mark.parametrize(
    ("day", "expected"),
    [((1, 31), True), ((2, 28), False), ((2, 29), True), ((12, 31), True), ((4, 30), True)],
)
def test_month_end(day, expected):
    assert filters.is_month_end(datetime(2024, *day)) is expected


def test_month_start():
    assert filters.is_month_start(datetime(2024, 3, 1))
    assert not filters.is_month_start(datetime(2024, 3, 2))


def test_filters_are_named_rules():
    assert repr(filters.is_weekday) == "is_weekday"
    assert repr(filters.on_date(1, 2)) == "on_date(month=1, day=2)"
    assert filters.on_date(1, 2) == filters.on_date(1, 2)
    assert filters.on_date(1, 2) != filters.on_date(1, 3)
