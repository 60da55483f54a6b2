from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

import pytest

from weir.schedules.zones import (
    UTC,
    add_absolute,
    add_wall_clock,
    ensure_aware,
    localize_gap_end,
    localize_shift,
    to_utc,
    zone_name,
)

from .helpers import NEW_YORK


def test_naive_datetimes_mean_utc():
    assert ensure_aware(datetime(2024, 1, 1, 9), "x").tzinfo is UTC
    assert to_utc(datetime(2024, 1, 1, 9)) == datetime(2024, 1, 1, 9, tzinfo=UTC)


def test_aware_datetimes_keep_their_zone():
    dt = datetime(2024, 1, 1, 9, tzinfo=NEW_YORK)
    assert ensure_aware(dt, "x") is dt


def test_ensure_aware_names_the_field():
    with pytest.raises(TypeError, match="start_date must be a datetime.datetime, got str"):
        ensure_aware("2024-01-01", "start_date")


def test_wall_clock_addition_keeps_the_hour_across_spring_forward():
    before = datetime(2024, 3, 9, 9, tzinfo=NEW_YORK)
    assert add_wall_clock(before, timedelta(days=1)).isoformat() == "2024-03-10T09:00:00-04:00"


def test_absolute_addition_counts_elapsed_time():
    before = datetime(2024, 3, 9, 9, tzinfo=NEW_YORK)
    assert add_absolute(before, timedelta(days=1)).isoformat() == "2024-03-10T10:00:00-04:00"


def test_localize_shift_moves_a_missing_time_forward_by_the_gap():
    assert localize_shift(datetime(2024, 3, 10, 2, 30), NEW_YORK).isoformat() == (
        "2024-03-10T03:30:00-04:00"
    )


def test_localize_shift_takes_the_first_of_an_ambiguous_time():
    assert localize_shift(datetime(2024, 11, 3, 1, 30), NEW_YORK).isoformat() == (
        "2024-11-03T01:30:00-04:00"
    )


def test_localize_gap_end_moves_a_missing_time_to_the_end_of_the_gap():
    assert localize_gap_end(datetime(2024, 3, 10, 2, 30), NEW_YORK).isoformat() == (
        "2024-03-10T03:00:00-04:00"
    )
    assert localize_gap_end(datetime(2024, 3, 10, 3, 30), NEW_YORK).isoformat() == (
        "2024-03-10T03:30:00-04:00"
    )


def test_zone_names():
    assert zone_name(NEW_YORK) == "America/New_York"
    assert zone_name(timezone.utc) is None
    assert zone_name(timezone(timedelta(hours=2))) is None


def test_a_zone_without_a_name_cannot_be_named():
    class Anonymous(tzinfo):
        def utcoffset(self, dt):
            return timedelta(hours=1)

    with pytest.raises(ValueError, match="has no IANA name"):
        zone_name(Anonymous())
