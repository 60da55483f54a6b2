"""Schedules stored by an earlier weir still load, write back byte for byte, and run the same.

The fixtures were written by the format-1 serializer before it became pydantic models
(``fixtures/make_*.py``); they are what servers hold, so they are never regenerated.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from weir.exceptions import ScheduleError
from weir.schedules import Schedule
from weir.schedules.serialize import field_path

FIXTURES = Path(__file__).with_name("fixtures")
STORED = json.loads((FIXTURES / "stored_v1.json").read_text())
ERRORS = json.loads((FIXTURES / "errors_v1.json").read_text())


@pytest.mark.parametrize("name", sorted(STORED["schedules"]))
def test_a_stored_schedule_loads_writes_back_the_same_and_runs_the_same(name):
    stored = STORED["schedules"][name]
    schedule = Schedule.deserialize(json.loads(stored["text"]))
    assert json.dumps(schedule.serialize()) == stored["text"]  # same keys, order and values
    after = datetime.fromisoformat(STORED["after"])
    events = schedule.next(len(stored["next"]), after=after, return_events=True)
    assert [
        [e.start_time.isoformat(), str(e.start_time.tzinfo), e.parameter_defaults, e.labels]
        for e in events
    ] == stored["next"]


def test_the_fixtures_hold_every_kind_of_part():
    text = json.dumps(STORED)
    for part in ("IntervalClock", "CronClock", "DatesClock", "RRuleClock", "rruleset"):
        assert f'\\"{part}\\"' in text
    from weir.schedules.serialize import ADJUSTMENTS, FILTERS

    for name in (*FILTERS, *ADJUSTMENTS):
        assert f'\\"name\\": \\"{name}\\"' in text


def _same_message(old: str, new: str) -> bool:
    # The one wording change: "clocks[0] has unknown field(s)" now starts with
    # "Schedule " like every other message.
    return new == old or new == f"Schedule {old}"


@pytest.mark.parametrize("case", ERRORS, ids=lambda c: c["message"] or "accepted")
def test_bad_data_is_refused_as_before(case: dict[str, Any]):
    if case["message"] is None:
        Schedule.deserialize(case["data"])  # accepted then, accepted now
        return
    with pytest.raises(ScheduleError) as caught:
        Schedule.deserialize(case["data"])
    assert _same_message(case["message"], str(caught.value))
    if case["field"] is not None:
        assert caught.value.field == case["field"]
    else:
        # The old reader named no field for some rrule faults; they are named now,
        # as the place the message speaks of.
        where = str(caught.value).removeprefix("Schedule ").split(" ")[0]
        assert caught.value.field == where
        assert field_path(where)[:2] == ("clocks", 0)
