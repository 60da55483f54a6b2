from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from weir.schedules import adjustments

from .helpers import NEW_YORK

UTC = timezone.utc


def test_add_moves_by_the_interval():
    shift = adjustments.add(timedelta(minutes=15))
    assert shift(datetime(2024, 1, 1, 9, tzinfo=UTC)).isoformat() == "2024-01-01T09:15:00+00:00"


def test_add_accepts_a_negative_interval():
    shift = adjustments.add(timedelta(hours=-1))
    assert shift(datetime(2024, 1, 1, 9, tzinfo=UTC)).isoformat() == "2024-01-01T08:00:00+00:00"


def test_add_counts_elapsed_time_and_keeps_the_zone():
    shift = adjustments.add(timedelta(hours=1))
    moved = shift(datetime(2024, 3, 10, 1, 30, tzinfo=NEW_YORK))
    assert moved.isoformat() == "2024-03-10T03:30:00-04:00"
    assert moved.tzinfo is NEW_YORK


def test_add_needs_a_timedelta():
    with pytest.raises(TypeError, match="adjustments.add interval must be a datetime.timedelta"):
        adjustments.add(60)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (5, "2024-01-05T09:00:00+00:00"),
        (6, "2024-01-08T09:00:00+00:00"),
        (7, "2024-01-08T09:00:00+00:00"),
    ],
)
def test_next_weekday(day, expected):
    assert adjustments.next_weekday(datetime(2024, 1, day, 9, tzinfo=UTC)).isoformat() == expected


def test_next_weekday_keeps_the_local_time_across_a_dst_change():
    saturday = datetime(2024, 3, 9, 9, tzinfo=NEW_YORK)  # EST; Monday is EDT
    assert adjustments.next_weekday(saturday).isoformat() == "2024-03-11T09:00:00-04:00"


def test_adjustments_are_named_rules():
    assert (
        repr(adjustments.add(timedelta(hours=1)))
        == "add(interval=datetime.timedelta(seconds=3600))"
    )
    assert repr(adjustments.next_weekday) == "next_weekday"
