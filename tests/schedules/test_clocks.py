from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from itertools import islice, takewhile

import pytest

from weir.exceptions import ScheduleError
from weir.schedules import CronClock, DatesClock, IntervalClock
from weir.schedules.zones import to_utc

from .helpers import BERLIN, NEW_YORK, first, iso

UTC = timezone.utc


class TestIntervalClock:
    def test_counts_from_2019_without_a_start_date(self):
        clock = IntervalClock(timedelta(hours=5))
        assert first(clock, 2, datetime(2019, 1, 1, 3)) == [
            "2019-01-01T05:00:00+00:00",
            "2019-01-01T10:00:00+00:00",
        ]

    def test_events_are_strictly_after_after(self):
        clock = IntervalClock(timedelta(hours=1), start_date=datetime(2024, 1, 1))
        assert first(clock, 1, datetime(2024, 1, 1, 3)) == ["2024-01-01T04:00:00+00:00"]

    def test_the_start_date_is_the_first_event(self):
        clock = IntervalClock(timedelta(minutes=10), start_date=datetime(2024, 1, 1, 12, 5))
        assert first(clock, 2, datetime(2020, 1, 1)) == [
            "2024-01-01T12:05:00+00:00",
            "2024-01-01T12:15:00+00:00",
        ]

    def test_the_end_date_is_included_and_nothing_after_it(self):
        clock = IntervalClock(
            timedelta(days=1), start_date=datetime(2024, 1, 1), end_date=datetime(2024, 1, 3)
        )
        assert len(list(clock.events(after=datetime(2023, 1, 1)))) == 3
        assert list(clock.events(after=datetime(2024, 1, 3))) == []

    def test_events_are_in_the_start_dates_zone(self):
        clock = IntervalClock(
            timedelta(hours=12), start_date=datetime(2024, 1, 1, 9, tzinfo=BERLIN)
        )
        assert first(clock, 2, datetime(2024, 1, 1)) == [
            "2024-01-01T09:00:00+01:00",
            "2024-01-01T21:00:00+01:00",
        ]

    def test_events_carry_parameter_defaults_and_labels(self):
        clock = IntervalClock(timedelta(hours=1), parameter_defaults={"n": 1}, labels=["gpu"])
        event = next(clock.events(after=datetime(2024, 1, 1)))
        assert (event.parameter_defaults, event.labels) == ({"n": 1}, ["gpu"])
        event.parameter_defaults["n"] = 2  # an event's dict is its own
        assert clock.parameter_defaults == {"n": 1}

    def test_skips_ahead_without_walking_from_the_start(self):
        clock = IntervalClock(timedelta(seconds=1), start_date=datetime(2000, 1, 1))
        assert first(clock, 1, datetime(2030, 6, 1, 0, 0, 0, 500_000)) == [
            "2030-06-01T00:00:01+00:00"
        ]

    def test_default_after_is_now(self):
        event = next(IntervalClock(timedelta(minutes=1)).events())
        assert event.start_time > datetime.now(UTC)

    def test_a_huge_interval_ends_instead_of_overflowing(self):
        clock = IntervalClock(timedelta(days=1_000_000), start_date=datetime(2024, 1, 1))
        assert len(list(clock.events(after=datetime(2020, 1, 1)))) == 3


class TestIntervalClockDaylightSaving:
    def test_a_daily_clock_keeps_the_local_hour_across_spring_forward(self):
        clock = IntervalClock(
            timedelta(days=1), start_date=datetime(2024, 3, 1, 9, tzinfo=NEW_YORK)
        )
        assert first(clock, 3, datetime(2024, 3, 9)) == [
            "2024-03-09T09:00:00-05:00",
            "2024-03-10T09:00:00-04:00",
            "2024-03-11T09:00:00-04:00",
        ]

    def test_a_daily_clock_keeps_the_local_hour_across_fall_back(self):
        clock = IntervalClock(
            timedelta(days=1), start_date=datetime(2024, 3, 1, 9, tzinfo=NEW_YORK)
        )
        assert first(clock, 3, datetime(2024, 11, 2)) == [
            "2024-11-02T09:00:00-04:00",
            "2024-11-03T09:00:00-05:00",
            "2024-11-04T09:00:00-05:00",
        ]

    def test_a_weekly_clock_keeps_the_local_hour(self):
        clock = IntervalClock(
            timedelta(weeks=1), start_date=datetime(2024, 3, 6, 9, tzinfo=NEW_YORK)
        )
        assert first(clock, 2, datetime(2024, 3, 7)) == [
            "2024-03-13T09:00:00-04:00",
            "2024-03-20T09:00:00-04:00",
        ]

    def test_a_daily_time_in_the_skipped_hour_moves_forward_by_the_gap(self):
        clock = IntervalClock(
            timedelta(days=1), start_date=datetime(2024, 3, 1, 2, 30, tzinfo=NEW_YORK)
        )
        assert first(clock, 3, datetime(2024, 3, 9, 12)) == [
            "2024-03-10T03:30:00-04:00",
            "2024-03-11T02:30:00-04:00",
            "2024-03-12T02:30:00-04:00",
        ]

    def test_a_daily_time_in_the_repeated_hour_runs_once_at_its_first_occurrence(self):
        clock = IntervalClock(
            timedelta(days=1), start_date=datetime(2024, 3, 1, 1, 30, tzinfo=NEW_YORK)
        )
        assert first(clock, 3, datetime(2024, 11, 2, 12)) == [
            "2024-11-03T01:30:00-04:00",
            "2024-11-04T01:30:00-05:00",
            "2024-11-05T01:30:00-05:00",
        ]

    def test_an_hourly_clock_steps_elapsed_time_across_spring_forward(self):
        clock = IntervalClock(timedelta(hours=1), start_date=datetime(2024, 3, 1, tzinfo=NEW_YORK))
        events = list(islice(clock.events(after=datetime(2024, 3, 10, 0, 30, tzinfo=NEW_YORK)), 3))
        assert iso(events) == [
            "2024-03-10T01:00:00-05:00",
            "2024-03-10T03:00:00-04:00",
            "2024-03-10T04:00:00-04:00",
        ]
        assert [e.start_time.astimezone(UTC).hour for e in events] == [6, 7, 8]

    def test_an_hourly_clock_fires_twice_at_one_local_time_on_fall_back(self):
        clock = IntervalClock(timedelta(hours=1), start_date=datetime(2024, 3, 1, tzinfo=NEW_YORK))
        events = list(islice(clock.events(after=datetime(2024, 11, 3, 0, 30, tzinfo=NEW_YORK)), 3))
        assert iso(events) == [
            "2024-11-03T01:00:00-04:00",
            "2024-11-03T01:00:00-05:00",
            "2024-11-03T02:00:00-05:00",
        ]
        assert [e.start_time.astimezone(UTC).hour for e in events] == [5, 6, 7]

    def test_after_inside_the_repeated_hour_is_read_as_an_instant(self):
        clock = IntervalClock(
            timedelta(minutes=30), start_date=datetime(2024, 3, 1, tzinfo=NEW_YORK)
        )
        after = datetime(2024, 11, 3, 1, 10, tzinfo=NEW_YORK, fold=1)  # 06:10 UTC
        assert first(clock, 2, after) == ["2024-11-03T01:30:00-05:00", "2024-11-03T02:00:00-05:00"]


class TestIntervalClockErrors:
    @pytest.mark.parametrize("interval", [timedelta(0), timedelta(seconds=-1)])
    def test_the_interval_must_be_positive(self, interval):
        with pytest.raises(ScheduleError, match="interval must be greater than 0"):
            IntervalClock(interval)

    def test_the_interval_must_be_a_timedelta(self):
        with pytest.raises(TypeError, match="interval must be a datetime.timedelta, got int 60"):
            IntervalClock(60)  # type: ignore[arg-type]

    def test_the_end_may_not_be_before_the_start(self):
        with pytest.raises(ScheduleError, match="IntervalClock end_date 2023-01-01.* is before"):
            IntervalClock(timedelta(hours=1), datetime(2024, 1, 1), datetime(2023, 1, 1))

    def test_dates_must_be_datetimes(self):
        with pytest.raises(TypeError, match="IntervalClock start_date must be a datetime"):
            IntervalClock(timedelta(hours=1), start_date="2024-01-01")  # type: ignore[arg-type]

    def test_parameter_defaults_must_be_a_dict(self):
        with pytest.raises(TypeError, match="parameter_defaults must be a dict"):
            IntervalClock(timedelta(hours=1), parameter_defaults=[1])  # type: ignore[arg-type]

    def test_labels_must_be_a_list_of_strings(self):
        with pytest.raises(TypeError, match="labels must be a list of strings"):
            IntervalClock(timedelta(hours=1), labels="gpu")


class TestCronClock:
    def test_fires_at_matching_times(self):
        clock = CronClock("0 9 * * 1-5")
        assert first(clock, 3, datetime(2024, 1, 5, 10)) == [  # a Friday
            "2024-01-08T09:00:00+00:00",
            "2024-01-09T09:00:00+00:00",
            "2024-01-10T09:00:00+00:00",
        ]

    def test_the_start_date_fires_when_it_matches(self):
        clock = CronClock("0 * * * *", start_date=datetime(2024, 1, 1, 5))
        assert first(clock, 2, datetime(2020, 1, 1)) == [
            "2024-01-01T05:00:00+00:00",
            "2024-01-01T06:00:00+00:00",
        ]

    def test_events_are_strictly_after_after(self):
        assert first(CronClock("0 * * * *"), 1, datetime(2024, 1, 1, 5)) == [
            "2024-01-01T06:00:00+00:00"
        ]

    def test_the_end_date_is_included_and_nothing_after_it(self):
        clock = CronClock("0 0 * * *", datetime(2024, 1, 1), datetime(2024, 1, 3))
        assert len(list(clock.events(after=datetime(2023, 1, 1)))) == 3

    def test_follows_the_start_dates_zone(self):
        clock = CronClock("0 9 * * *", start_date=datetime(2024, 1, 1, tzinfo=BERLIN))
        assert first(clock, 1, datetime(2024, 1, 1)) == ["2024-01-01T09:00:00+01:00"]

    def test_day_or_true_is_crons_or(self):
        # 1st of the month OR a Friday
        clock = CronClock("0 0 1 * 5")
        assert first(clock, 3, datetime(2024, 2, 27)) == [
            "2024-03-01T00:00:00+00:00",
            "2024-03-08T00:00:00+00:00",
            "2024-03-15T00:00:00+00:00",
        ]

    def test_day_or_false_ands_day_of_month_and_day_of_week(self):
        # the 1st of a month that is also a Friday
        clock = CronClock("0 0 1 * 5", day_or=False)
        assert first(clock, 2, datetime(2024, 2, 27)) == [
            "2024-03-01T00:00:00+00:00",
            "2024-11-01T00:00:00+00:00",
        ]

    def test_an_expression_that_never_matches_ends(self):
        assert list(CronClock("0 0 30 2 *").events(after=datetime(2024, 1, 1))) == []

    def test_carries_parameter_defaults_and_labels(self):
        event = next(CronClock("* * * * *", parameter_defaults={"a": 1}, labels=["x"]).events())
        assert (event.parameter_defaults, event.labels) == ({"a": 1}, ["x"])

    @pytest.mark.parametrize("cron", ["bad", "61 * * * *", "* * *", ""])
    def test_a_bad_cron_string_is_named(self, cron):
        with pytest.raises(ScheduleError, match=re.escape(f"cron string {cron!r} is not a valid")):
            CronClock(cron)

    def test_the_end_may_not_be_before_the_start(self):
        with pytest.raises(ScheduleError, match="CronClock end_date .* is before its start_date"):
            CronClock("* * * * *", datetime(2024, 1, 2), datetime(2024, 1, 1))


class TestCronClockDaylightSaving:
    start = datetime(2024, 1, 1, tzinfo=NEW_YORK)

    def test_a_daily_job_keeps_the_local_hour_across_both_changes(self):
        clock = CronClock("0 9 * * *", self.start)
        assert first(clock, 2, datetime(2024, 3, 9, 12, tzinfo=NEW_YORK)) == [
            "2024-03-10T09:00:00-04:00",
            "2024-03-11T09:00:00-04:00",
        ]
        assert first(clock, 2, datetime(2024, 11, 2, 12, tzinfo=NEW_YORK)) == [
            "2024-11-03T09:00:00-05:00",
            "2024-11-04T09:00:00-05:00",
        ]

    @pytest.mark.parametrize("cron", ["0 2 * * *", "30 2 * * *"])
    def test_a_job_in_the_skipped_hour_runs_once_when_the_clocks_jump(self, cron):
        clock = CronClock(cron, self.start)
        runs = first(clock, 2, datetime(2024, 3, 9, 12))
        assert runs[0] == "2024-03-10T03:00:00-04:00"
        assert runs[1].startswith("2024-03-11T02:")

    def test_an_hourly_job_skips_the_missing_hour_on_spring_forward(self):
        clock = CronClock("0 * * * *", self.start)
        events = list(islice(clock.events(after=datetime(2024, 3, 9, 23, tzinfo=NEW_YORK)), 4))
        assert [e.start_time.hour for e in events] == [0, 1, 3, 4]
        assert [e.start_time.astimezone(UTC).hour for e in events] == [5, 6, 7, 8]

    def test_minutes_in_the_skipped_hour_collapse_to_one_run(self):
        clock = CronClock("*/20 * * * *", self.start)
        assert first(clock, 3, datetime(2024, 3, 10, 1, 50, tzinfo=NEW_YORK)) == [
            "2024-03-10T03:00:00-04:00",
            "2024-03-10T03:20:00-04:00",
            "2024-03-10T03:40:00-04:00",
        ]

    def test_an_hourly_job_does_not_repeat_the_repeated_hour_on_fall_back(self):
        clock = CronClock("0 * * * *", self.start)
        events = list(islice(clock.events(after=datetime(2024, 11, 2, 23, tzinfo=NEW_YORK)), 4))
        assert [e.start_time.hour for e in events] == [0, 1, 2, 3]
        # a two-hour pause in elapsed time: 01:00 EDT then 02:00 EST
        assert [e.start_time.astimezone(UTC).hour for e in events] == [4, 5, 7, 8]

    def test_a_daily_job_in_the_repeated_hour_runs_once(self):
        clock = CronClock("30 1 * * *", self.start)
        assert first(clock, 2, datetime(2024, 11, 2, 12)) == [
            "2024-11-03T01:30:00-04:00",
            "2024-11-04T01:30:00-05:00",
        ]

    def test_after_inside_the_repeated_hour_does_not_refire_it(self):
        clock = CronClock("*/30 * * * *", self.start)
        after = datetime(2024, 11, 3, 1, 10, tzinfo=NEW_YORK, fold=1)  # 06:10 UTC
        assert first(clock, 1, after) == ["2024-11-03T02:00:00-05:00"]


class TestDatesClock:
    def test_fires_at_each_date_in_order(self):
        clock = DatesClock([datetime(2024, 1, 2), datetime(2024, 1, 1, tzinfo=NEW_YORK)])
        assert first(clock, 5, datetime(2023, 1, 1)) == [
            "2024-01-01T00:00:00-05:00",
            "2024-01-02T00:00:00+00:00",
        ]
        assert clock.start_date.isoformat() == "2024-01-01T00:00:00-05:00"
        assert clock.end_date.isoformat() == "2024-01-02T00:00:00+00:00"

    def test_only_dates_after_after(self):
        clock = DatesClock([datetime(2024, 1, 1), datetime(2024, 1, 2)], labels=["a"])
        events = list(clock.events(after=datetime(2024, 1, 1)))
        assert iso(events) == ["2024-01-02T00:00:00+00:00"]
        assert events[0].labels == ["a"]

    def test_needs_a_date(self):
        with pytest.raises(ScheduleError, match="at least one date"):
            DatesClock([])

    def test_needs_a_list(self):
        with pytest.raises(TypeError, match="wrap a single date in a list"):
            DatesClock(datetime(2024, 1, 1))  # type: ignore[arg-type]

    def test_names_a_bad_date(self):
        with pytest.raises(TypeError, match=r"DatesClock dates\[1\] must be a datetime"):
            DatesClock([datetime(2024, 1, 1), "tomorrow"])  # type: ignore[list-item]


def test_clocks_compare_by_value():
    assert IntervalClock(timedelta(hours=1), datetime(2024, 1, 1)) == IntervalClock(
        timedelta(hours=1), datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert CronClock("0 * * * *") != CronClock("0 * * * *", day_or=False)
    assert CronClock("0 * * * *") != IntervalClock(timedelta(hours=1))


@pytest.mark.parametrize(
    "clock",
    [
        IntervalClock(timedelta(days=1), start_date=datetime(2024, 1, 1, 2, 30, tzinfo=NEW_YORK)),
        IntervalClock(timedelta(days=1, hours=1), start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK)),
        IntervalClock(timedelta(minutes=45), start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK)),
        CronClock("*/30 1-3 * * *", start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK)),
        CronClock("15 2 * * *", start_date=datetime(2024, 1, 1, tzinfo=BERLIN)),
    ],
    ids=["daily-0230", "25h", "45min", "cron-night", "cron-berlin"],
)
def test_starting_anywhere_agrees_with_walking_from_the_start(clock):
    """Skipping ahead to ``after`` gives the same events as walking from before a DST change."""
    changes = [datetime(2024, 3, 10, 7), datetime(2024, 3, 31, 1), datetime(2024, 11, 3, 6)]
    for change in (c.replace(tzinfo=UTC) for c in changes):
        walk = clock.events(after=change - timedelta(days=4))
        walked = list(
            takewhile(lambda e, c=change: to_utc(e.start_time) < c + timedelta(days=6), walk)
        )
        instants = [to_utc(e.start_time) for e in walked]
        assert instants == sorted(set(instants))  # strictly increasing
        for minutes in range(0, 4 * 24 * 60, 37):  # afters every 37 minutes across the change
            after = change - timedelta(days=2) + timedelta(minutes=minutes)
            expected = [e for e in walked if to_utc(e.start_time) > after][:3]
            assert len(expected) == 3
            assert iso(islice(clock.events(after=after), 3)) == iso(expected), after
