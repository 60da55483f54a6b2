"""RRuleClock: dateutil recurrence rules as a clock, as in Prefect 1, and stored as JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from dateutil import rrule

from weir.exceptions import ScheduleError
from weir.schedules import IntervalClock, RRuleClock, Schedule
from weir.schedules.clocks import RRuleClock as FromClocks

from .helpers import NEW_YORK, first, iso

UTC = timezone.utc
MONDAY = datetime(2024, 1, 1, 9)  # a Monday
MON_FRI = rrule.rrule(rrule.WEEKLY, byweekday=(rrule.MO, rrule.FR), dtstart=MONDAY)


def through_json(schedule: Schedule) -> Schedule:
    return Schedule.deserialize(json.loads(json.dumps(schedule.serialize())))


def test_it_lives_where_prefect_1_keeps_it():
    assert RRuleClock is FromClocks


def test_a_naive_rule_speaks_utc():
    assert first(RRuleClock(MON_FRI), 3, after=datetime(2024, 1, 1)) == [
        "2024-01-01T09:00:00+00:00",
        "2024-01-05T09:00:00+00:00",
        "2024-01-08T09:00:00+00:00",
    ]


def test_events_are_strictly_after_after():
    assert first(RRuleClock(MON_FRI), 1, after=datetime(2024, 1, 1, 9, tzinfo=UTC)) == [
        "2024-01-05T09:00:00+00:00"
    ]


def test_start_and_end_dates_bound_the_rule():
    clock = RRuleClock(MON_FRI, start_date=datetime(2024, 1, 5, 9), end_date=datetime(2024, 1, 15))
    assert iso(clock.events(after=datetime(2023, 1, 1))) == [
        "2024-01-05T09:00:00+00:00",
        "2024-01-08T09:00:00+00:00",
        "2024-01-12T09:00:00+00:00",
    ]


def test_a_counted_rule_runs_out():
    rule = rrule.rrule(rrule.DAILY, count=2, dtstart=MONDAY)
    assert len(list(RRuleClock(rule).events(after=datetime(2023, 1, 1)))) == 2


def test_a_zoned_rule_keeps_its_wall_clock_across_dst():
    rule = rrule.rrule(rrule.DAILY, dtstart=datetime(2024, 3, 8, 9, tzinfo=NEW_YORK))
    assert first(RRuleClock(rule), 3, after=datetime(2024, 3, 8, 12)) == [
        "2024-03-08T09:00:00-05:00",
        "2024-03-09T09:00:00-05:00",
        "2024-03-10T09:00:00-04:00",
    ]


def test_a_wall_time_skipped_by_dst_moves_forward_by_the_gap():
    rule = rrule.rrule(rrule.DAILY, dtstart=datetime(2024, 3, 9, 2, 30, tzinfo=NEW_YORK))
    assert first(RRuleClock(rule), 3, after=datetime(2024, 3, 9)) == [
        "2024-03-09T02:30:00-05:00",
        "2024-03-10T03:30:00-04:00",
        "2024-03-11T02:30:00-04:00",
    ]


def test_an_rruleset_with_exclusions_and_extra_dates():
    rules = rrule.rruleset()
    rules.rrule(MON_FRI)
    rules.exdate(datetime(2024, 1, 5, 9))
    rules.rdate(datetime(2024, 1, 3, 12))
    assert first(RRuleClock(rules), 3, after=datetime(2024, 1, 1, 10)) == [
        "2024-01-03T12:00:00+00:00",
        "2024-01-08T09:00:00+00:00",
        "2024-01-12T09:00:00+00:00",
    ]


def test_events_carry_parameters_and_labels_and_merge_with_other_clocks():
    schedule = Schedule(
        [
            RRuleClock(MON_FRI, parameter_defaults={"kind": "rule"}, labels=["a"]),
            IntervalClock(timedelta(days=2), start_date=datetime(2024, 1, 2, 9)),
        ]
    )
    events = schedule.next(3, after=datetime(2024, 1, 1), return_events=True)
    assert iso(events) == [
        "2024-01-01T09:00:00+00:00",
        "2024-01-02T09:00:00+00:00",
        "2024-01-04T09:00:00+00:00",
    ]
    assert (events[0].parameter_defaults, events[0].labels) == ({"kind": "rule"}, ["a"])


def test_not_a_rule_is_refused_with_the_fix():
    with pytest.raises(TypeError, match="RRuleClock rrule_obj must be a dateutil rrule"):
        RRuleClock("FREQ=DAILY")  # type: ignore[arg-type]


class TestSerialization:
    @pytest.mark.parametrize(
        "rule",
        [
            MON_FRI,
            rrule.rrule(rrule.HOURLY, interval=5, count=30, dtstart=datetime(2024, 2, 28)),
            rrule.rrule(
                rrule.WEEKLY,
                byweekday=rrule.MO,
                byhour=9,
                dtstart=datetime(2024, 3, 1, 9, tzinfo=NEW_YORK),
                until=datetime(2024, 6, 1, tzinfo=NEW_YORK),
            ),
        ],
        ids=["naive", "counted", "zoned-until"],
    )
    def test_a_rule_round_trips(self, rule):
        schedule = Schedule([RRuleClock(rule, labels=["x"], parameter_defaults={"n": 1})])
        again = through_json(schedule)
        assert again == schedule
        after = datetime(2024, 3, 1)
        assert iso(again.next(20, after=after)) == iso(schedule.next(20, after=after))

    def test_a_rule_set_round_trips(self):
        rules = rrule.rruleset()
        rules.rrule(rrule.rrule(rrule.DAILY, dtstart=datetime(2024, 3, 1, 9, tzinfo=NEW_YORK)))
        rules.exrule(
            rrule.rrule(
                rrule.WEEKLY, byweekday=rrule.SU, dtstart=datetime(2024, 3, 1, 9, tzinfo=NEW_YORK)
            )
        )
        rules.rdate(datetime(2024, 3, 5, 12, tzinfo=NEW_YORK))
        rules.exdate(datetime(2024, 3, 4, 9, tzinfo=NEW_YORK))
        schedule = Schedule([RRuleClock(rules, start_date=datetime(2024, 3, 2, tzinfo=NEW_YORK))])
        again = through_json(schedule)
        assert again == schedule
        assert iso(again.next(6, after=datetime(2024, 3, 1))) == [
            "2024-03-02T09:00:00-05:00",
            "2024-03-05T09:00:00-05:00",
            "2024-03-05T12:00:00-05:00",
            "2024-03-06T09:00:00-05:00",
            "2024-03-07T09:00:00-05:00",
            "2024-03-08T09:00:00-05:00",
        ]

    def test_the_format_keeps_the_zone_beside_the_rule_text(self):
        rule = rrule.rrule(rrule.DAILY, dtstart=datetime(2024, 3, 1, 9, tzinfo=NEW_YORK))
        (clock,) = Schedule([RRuleClock(rule)]).serialize()["clocks"]
        assert clock["type"] == "RRuleClock"
        assert clock["rrule"] == {
            "kind": "rrule",
            "rule": "DTSTART:20240301T090000\nRRULE:FREQ=DAILY",
            "dtstart": "2024-03-01T09:00:00-05:00[America/New_York]",
            "until": None,
        }

    @pytest.mark.parametrize(
        ("rrule_data", "message"),
        [
            ("FREQ=DAILY", r"clocks\[0\].rrule must be a dict with kind 'rrule' or 'rruleset'"),
            (
                {"kind": "rrule", "rule": 5, "dtstart": "2024-01-01T00:00:00"},
                r"clocks\[0\].rrule.rule must be RFC 5545 text",
            ),
            (
                {"kind": "rrule", "rule": "RRULE:FREQ=SOMETIMES", "dtstart": "2024-01-01T00:00:00"},
                r"clocks\[0\].rrule is not a valid recurrence rule",
            ),
            (
                {"kind": "rrule", "rule": "RRULE:FREQ=DAILY", "dtstart": "yesterday"},
                r"clocks\[0\].rrule.dtstart must be an ISO 8601 datetime",
            ),
            (
                {"kind": "rruleset", "rrules": [{"kind": "rrule"}]},
                r"clocks\[0\].rrule.rrules\[0\].rule must be RFC 5545 text",
            ),
            (
                {"kind": "rruleset", "exdates": "2024-01-01"},
                r"clocks\[0\].rrule.exdates must be a list",
            ),
            (
                {"kind": "rrule", "rule": "RRULE:FREQ=DAILY", "dtstart": None, "x": 1},
                r"clocks\[0\].rrule has unknown field\(s\) 'x'",
            ),
        ],
    )
    def test_bad_rules_are_named(self, rrule_data, message):
        data = {"clocks": [{"type": "RRuleClock", "rrule": rrule_data}]}
        with pytest.raises(ScheduleError, match=message):
            Schedule.deserialize(data)
