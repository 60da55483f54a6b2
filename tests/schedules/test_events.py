from __future__ import annotations

from datetime import datetime, timezone

from weir.schedules import ClockEvent

from .helpers import NEW_YORK

UTC = timezone.utc


def test_events_order_by_instant_whatever_their_zone():
    early = ClockEvent(datetime(2024, 1, 1, 8, tzinfo=NEW_YORK))  # 13:00 UTC
    late = ClockEvent(datetime(2024, 1, 1, 14, tzinfo=UTC))
    assert early < late and late > early and early <= late and late >= early
    assert sorted([late, early]) == [early, late]


def test_events_on_both_sides_of_a_fall_back_order_by_instant():
    first = ClockEvent(datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK))  # EDT
    second = ClockEvent(datetime(2024, 11, 3, 1, 0, tzinfo=NEW_YORK, fold=1))  # EST, later
    assert first < second
    assert first != second


def test_equality_with_events_and_datetimes():
    when = datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert ClockEvent(when) == ClockEvent(when.astimezone(NEW_YORK))
    assert ClockEvent(when) == when
    assert ClockEvent(when, {"x": 1}) != ClockEvent(when, {"x": 2})
    assert ClockEvent(when, labels=["a"]) != ClockEvent(when)
    assert hash(ClockEvent(when)) == hash(ClockEvent(when.astimezone(NEW_YORK)))


def test_defaults_and_repr():
    event = ClockEvent(datetime(2024, 1, 1, tzinfo=UTC), labels=["gpu"])
    assert event.parameter_defaults == {}
    assert repr(event) == "ClockEvent(2024-01-01T00:00:00+00:00, labels=['gpu'])"
    assert (event == "nope") is False
