from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from weir.exceptions import ScheduleError
from weir.schedules import (
    Clock,
    CronClock,
    DatesClock,
    IntervalClock,
    Schedule,
    adjustments,
    filters,
)
from weir.schedules.serialize import ADJUSTMENTS, FILTERS, datetime_from_str, datetime_to_str

from .helpers import BERLIN, NEW_YORK, iso

UTC = timezone.utc
AFTER = datetime(2024, 3, 1)


def through_json(schedule: Schedule) -> Schedule:
    """What the server does: store as JSON text, read it back."""
    return Schedule.deserialize(json.loads(json.dumps(schedule.serialize())))


def assert_round_trip(schedule: Schedule, after: datetime = AFTER, n: int = 10) -> None:
    again = through_json(schedule)
    assert again == schedule
    assert iso(again.next(n, after=after, return_events=True)) == iso(
        schedule.next(n, after=after, return_events=True)
    )
    assert again.next(n, after=after) == schedule.next(n, after=after)


class TestRoundTrips:
    def test_an_interval_clock(self):
        clock = IntervalClock(
            timedelta(hours=1, microseconds=250),
            start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK),
            end_date=datetime(2025, 1, 1, tzinfo=NEW_YORK),
            parameter_defaults={"n": 1, "names": ["a", "b"], "opts": {"x": None}},
            labels=["gpu", "eu"],
        )
        assert_round_trip(Schedule([clock]))

    def test_an_interval_clock_without_dates(self):
        assert_round_trip(Schedule([IntervalClock(timedelta(minutes=7))]))

    def test_a_daily_interval_clock_across_both_dst_changes(self):
        clock = IntervalClock(
            timedelta(days=1), start_date=datetime(2024, 1, 1, 2, 30, tzinfo=NEW_YORK)
        )
        assert_round_trip(Schedule([clock]), after=datetime(2024, 3, 5), n=250)

    def test_an_hourly_interval_clock_across_fall_back(self):
        clock = IntervalClock(timedelta(hours=1), start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK))
        assert_round_trip(Schedule([clock]), after=datetime(2024, 11, 3, 4), n=5)

    def test_a_cron_clock(self):
        clock = CronClock(
            "*/30 1-3 * * *",
            start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK),
            day_or=False,
            labels=["x"],
        )
        assert_round_trip(Schedule([clock]), after=datetime(2024, 11, 2, 12), n=20)
        assert_round_trip(Schedule([clock]), after=datetime(2024, 3, 9, 12), n=20)

    def test_a_cron_clock_without_dates(self):
        assert_round_trip(Schedule([CronClock("0 9 * * 1-5")]))

    def test_a_dates_clock(self):
        clock = DatesClock(
            [datetime(2024, 6, 1, tzinfo=BERLIN), datetime(2024, 3, 2, 12, 0, 0, 123456)],
            parameter_defaults={"once": True},
        )
        assert_round_trip(Schedule([clock]))

    def test_a_start_date_in_the_repeated_hour_keeps_its_fold(self):
        start = datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK, fold=1)
        again = through_json(Schedule([IntervalClock(timedelta(hours=1), start_date=start)]))
        assert again.clocks[0].start_date.isoformat() == "2024-11-03T01:30:00-05:00"
        assert again.clocks[0].start_date.fold == 1

    @pytest.mark.parametrize(
        "zone", [UTC, ZoneInfo("UTC"), timezone(timedelta(hours=5, minutes=30)), BERLIN]
    )
    def test_every_kind_of_zone_keeps_its_kind(self, zone):
        start = datetime(2024, 1, 1, 9, tzinfo=zone)
        again = through_json(Schedule([IntervalClock(timedelta(days=1), start_date=start)]))
        assert again.clocks[0].start_date.tzinfo == zone
        assert_round_trip(Schedule([IntervalClock(timedelta(days=1), start_date=start)]))

    def test_every_filter_and_adjustment(self):
        made = {
            "on_datetime": filters.on_datetime(datetime(2024, 3, 2, 5, tzinfo=NEW_YORK)),
            "on_date": filters.on_date(3, 2),
            "at_time": filters.at_time(time(5, 0, 0, 10)),
            "between_datetimes": filters.between_datetimes(
                datetime(2024, 1, 1), datetime(2025, 1, 1)
            ),
            "between_times": filters.between_times(time(22), time(6)),
            "between_dates": filters.between_dates(11, 1, 3, 31),
            "is_day_of_week": filters.is_day_of_week(5),
            "is_weekday": filters.is_weekday,
            "is_weekend": filters.is_weekend,
            "is_month_end": filters.is_month_end,
            "is_month_start": filters.is_month_start,
        }
        assert set(made) == set(FILTERS)  # every serializable filter is covered here
        schedule = Schedule(
            [
                IntervalClock(
                    timedelta(minutes=30), start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK)
                )
            ],
            filters=[made["between_datetimes"], made["between_times"], made["between_dates"]],
            or_filters=[made[name] for name in made if name.startswith(("on_", "at_", "is_"))],
            not_filters=[made["is_month_start"]],
            adjustments=[adjustments.next_weekday, adjustments.add(timedelta(seconds=1.5))],
        )
        assert {a.name for a in schedule.adjustments} == set(ADJUSTMENTS)
        assert_round_trip(schedule, n=30)

    def test_the_format_is_plain_json_with_named_zones(self):
        schedule = Schedule(
            [
                IntervalClock(
                    timedelta(hours=2), start_date=datetime(2024, 1, 1, 9, tzinfo=NEW_YORK)
                )
            ],
            filters=[filters.between_times(time(9), time(17))],
            adjustments=[adjustments.add(timedelta(minutes=15))],
        )
        assert schedule.serialize() == {
            "version": 1,
            "clocks": [
                {
                    "type": "IntervalClock",
                    "interval": 7200,
                    "start_date": "2024-01-01T09:00:00-05:00[America/New_York]",
                    "end_date": None,
                    "parameter_defaults": {},
                    "labels": None,
                }
            ],
            "filters": [
                {"name": "between_times", "args": {"start": "09:00:00", "end": "17:00:00"}}
            ],
            "or_filters": [],
            "not_filters": [],
            "adjustments": [{"name": "add", "args": {"interval": 900}}],
        }

    def test_missing_rule_lists_and_version_read_as_empty_and_current(self):
        data = {"clocks": [{"type": "CronClock", "cron": "0 0 * * *"}]}
        assert Schedule.deserialize(data) == Schedule([CronClock("0 0 * * *")])


def test_datetime_strings():
    dt = datetime(2024, 7, 1, 12, tzinfo=BERLIN)
    assert datetime_to_str(dt) == "2024-07-01T12:00:00+02:00[Europe/Berlin]"
    assert datetime_from_str(datetime_to_str(dt), "x").tzinfo is BERLIN
    # a naive time with a zone is read on that zone's wall clock
    assert datetime_from_str("2024-07-01T12:00:00[Europe/Berlin]", "x") == dt


class TestWhatCannotBeSerialized:
    def test_a_user_filter_is_named(self):
        def only_mornings(dt: datetime) -> bool:
            return dt.hour < 12

        schedule = Schedule(
            [IntervalClock(timedelta(hours=1))], not_filters=[filters.is_weekend, only_mornings]
        )
        with pytest.raises(
            ScheduleError, match=r"not_filters\[1\] is the callable .*only_mornings"
        ):
            schedule.serialize()

    def test_a_lambda_adjustment_is_named(self):
        schedule = Schedule([IntervalClock(timedelta(hours=1))], adjustments=[lambda dt: dt])
        with pytest.raises(ScheduleError, match=r"adjustments\[0\] is the callable .*<lambda>"):
            schedule.serialize()

    def test_a_filter_used_as_an_adjustment(self):
        schedule = Schedule([IntervalClock(timedelta(hours=1))], adjustments=[filters.is_weekday])
        with pytest.raises(ScheduleError, match=r"adjustments\[0\] .* weir.schedules.adjustments"):
            schedule.serialize()

    def test_a_custom_clock(self):
        class EveryNoon(Clock):
            pass

        with pytest.raises(ScheduleError, match=r"clocks\[0\] is a EveryNoon, which cannot be"):
            Schedule([EveryNoon()]).serialize()

    def test_parameter_defaults_that_are_not_json(self):
        clock = IntervalClock(timedelta(hours=1), parameter_defaults={"when": datetime(2024, 1, 1)})
        with pytest.raises(ScheduleError, match=r"clocks\[0\].parameter_defaults cannot be stored"):
            Schedule([clock]).serialize()


def good() -> dict[str, Any]:
    return Schedule(
        [
            IntervalClock(timedelta(hours=1), start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK)),
            CronClock("0 0 * * *"),
        ],
        filters=[filters.on_date(1, 1)],
    ).serialize()


def broken(change: Any) -> dict[str, Any]:
    data = good()
    change(data)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "Schedule data must be a dict"),
        (broken(lambda d: d.update(version=2)), "Schedule version is 2"),
        (broken(lambda d: d.update(extra=1)), "unknown field.*'extra'"),
        (broken(lambda d: d.update(clocks={})), "clocks must be a list of clocks"),
        (broken(lambda d: d.pop("clocks")), "clocks must be a list of clocks, got None"),
        (broken(lambda d: d["clocks"].append("x")), r"clocks\[2\] must be a dict"),
        (broken(lambda d: d["clocks"][0].update(type="Sundial")), r"clocks\[0\].type is 'Sundial'"),
        (
            broken(lambda d: d["clocks"][0].update(interval=0)),
            r"clocks\[0\].interval must be a number",
        ),
        (broken(lambda d: d["clocks"][0].update(interval="1h")), r"clocks\[0\].interval"),
        (broken(lambda d: d["clocks"][0].update(interval=True)), r"clocks\[0\].interval"),
        (
            broken(lambda d: d["clocks"][0].update(start_date="soon")),
            r"clocks\[0\].start_date must be",
        ),
        (broken(lambda d: d["clocks"][0].update(start_date=5)), r"clocks\[0\].start_date must be"),
        (
            broken(
                lambda d: d["clocks"][0].update(start_date="2024-01-01T00:00:00+00:00[Mars/Base]")
            ),
            r"clocks\[0\].start_date must be",
        ),
        (
            broken(lambda d: d["clocks"][0].update(end_date="2000-01-01T00:00:00+00:00")),
            r"clocks\[0\]: IntervalClock end_date .* is before",
        ),
        (
            broken(lambda d: d["clocks"][0].update(labels="gpu")),
            r"clocks\[0\].labels must be a list",
        ),
        (
            broken(lambda d: d["clocks"][0].update(parameter_defaults=[1])),
            r"clocks\[0\].parameter_defaults",
        ),
        (
            broken(lambda d: d["clocks"][0].update(colour="red")),
            r"clocks\[0\] has unknown field.*'colour'",
        ),
        (
            broken(lambda d: d["clocks"][1].update(cron="every day")),
            r"clocks\[1\]: CronClock cron string 'every day'",
        ),
        (
            broken(lambda d: d["clocks"][1].update(cron=None)),
            r"clocks\[1\].cron must be a cron string",
        ),
        (broken(lambda d: d["clocks"][1].update(day_or="yes")), r"clocks\[1\].day_or must be"),
        (broken(lambda d: d.update(filters={})), "filters must be a list"),
        (broken(lambda d: d["filters"].append("is_weekday")), r"filters\[1\] must be a dict like"),
        (
            broken(lambda d: d["filters"][0].update(name="is_holiday")),
            r"filters\[0\].name is 'is_holiday'",
        ),
        (
            broken(lambda d: d["filters"][0].update(args={"month": 1})),
            r"filters\[0\].args for on_date",
        ),
        (
            broken(lambda d: d["filters"][0]["args"].update(day="1")),
            r"filters\[0\].args.day must be an integer",
        ),
        (
            broken(lambda d: d["filters"][0]["args"].update(month=13)),
            r"filters\[0\]: on_date month/day 13/1",
        ),
        (
            broken(lambda d: d.update(adjustments=[{"name": "on_date"}])),
            r"adjustments\[0\].name is 'on_date'",
        ),
        (
            broken(lambda d: d.update(adjustments=[{"name": "add", "args": {"interval": "1h"}}])),
            r"adjustments\[0\].args.interval must be a number of seconds",
        ),
        (
            broken(lambda d: d.update(not_filters=[{"name": "at_time", "args": {"t": "noon"}}])),
            r"not_filters\[0\].args.t must be a time",
        ),
        (
            {"clocks": [{"type": "DatesClock", "dates": []}]},
            r"clocks\[0\].dates must be a non-empty list",
        ),
        (
            {"clocks": [{"type": "DatesClock", "dates": ["2024-01-01", "later"]}]},
            r"clocks\[0\].dates\[1\] must be",
        ),
    ],
)
def test_bad_data_raises_a_value_error_naming_the_field(data, message):
    with pytest.raises(ValueError, match=message):
        Schedule.deserialize(data)


def test_bad_data_errors_are_schedule_errors():
    with pytest.raises(ScheduleError):
        Schedule.deserialize({"clocks": "every hour"})


def test_the_good_data_used_above_is_good():
    assert len(Schedule.deserialize(good()).next(3, after=AFTER)) == 3
