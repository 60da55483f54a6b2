"""Registration refuses what would fail later; the scheduler skips a stored flow that fails."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from weir.schedules import CronClock, DatesClock, IntervalClock, Schedule, adjustments, filters
from weir.server.database import orm
from weir.server.services.scheduler import Scheduler
from weir.server.settings import SchedulerSettings
from weir.server.testing import store_flow_unchecked

T0 = 1_800_000_000.0
SCHEDULE = ("body", "serialized_flow", "schedule")


def _clock(**fields) -> dict:
    return {"type": "IntervalClock", "interval": 3600, **fields}


BAD_SCHEDULES = [
    ({"clocks": [{"type": "CronClock", "cron": "not a cron"}]}, ("clocks", 0, "cron")),
    ({"clocks": [{"type": "CronClock", "cron": "61 * * * *"}]}, ("clocks", 0, "cron")),
    (
        {"clocks": [_clock(start_date="2024-01-01T00:00:00+00:00[Mars/Olympus]")]},
        ("clocks", 0, "start_date"),
    ),
    ({"clocks": [_clock(start_date="not-a-date")]}, ("clocks", 0, "start_date")),
    ({"clocks": [{"type": "SundialClock"}]}, ("clocks", 0, "type")),
    ({"clocks": [_clock(interval=0)]}, ("clocks", 0, "interval")),
    ({"clocks": [_clock(interval=1e300)]}, ("clocks", 0, "interval")),
    ({"clocks": [_clock(colour="red")]}, ("clocks", 0, "colour")),
    (
        {"clocks": [_clock(start_date="2024-02-01T00:00:00+00:00", end_date="2024-01-01T00:00")]},
        ("clocks", 0, "end_date"),
    ),
    ({"clocks": [{"type": "DatesClock", "dates": ["2024-13-01"]}]}, ("clocks", 0, "dates", 0)),
    ({"clocks": [_clock(labels=[""])]}, ("clocks", 0, "labels", 0)),
    ({"clocks": [_clock(parameter_defaults={"nope": 1})]}, ("clocks", 0, "parameter_defaults")),
    ({"clocks": [_clock()], "filters": [{"name": "at_noon"}]}, ("filters", 0, "name")),
    (
        {"clocks": [_clock()], "filters": [{"name": "at_time", "args": {"t": "25:00"}}]},
        ("filters", 0, "args", "t"),
    ),
    (
        {"clocks": [_clock()], "adjustments": [{"name": "add", "args": {"interval": "1h"}}]},
        ("adjustments", 0, "args", "interval"),
    ),
    # Valid alone, but its first run time is before year 1: it fails when asked for runs.
    ({"clocks": [_clock(start_date="0001-01-01T00:00:00+14:00")]}, ()),
    ({"clocks": {}}, ("clocks",)),
    ({"version": 7, "clocks": [_clock()]}, ("version",)),
    ("hourly", ()),
]

BAD_PARTS = [
    ({"storage": {"type": "Nope"}}, ("body", "storage", "type")),
    ({"storage": {"type": "Local", "path": "relative.py"}}, ("body", "storage", "path")),
    ({"storage": {"type": "Module"}}, ("body", "storage", "module")),
    (
        {"storage": {"type": "Remote", "url": "memory://x", "colour": 1}},
        ("body", "storage", "colour"),
    ),
    ({"run_config": {"env": {"A=B": "x"}}}, ("body", "run_config", "env", "A=B", "[key]")),
    ({"run_config": {"env": {"A": {"nested": 1}}}}, ("body", "run_config", "env", "A")),
    ({"run_config": {"env": ["A=1"]}}, ("body", "run_config", "env")),
    ({"run_config": {"image": ""}}, ("body", "run_config", "image")),
    ({"executor": {"max_workers": 2}}, ("body", "executor", "type")),
]


def _nothing_stored(client) -> None:
    assert client.get("/flows", params={"include_archived": True}).json() == []


@pytest.mark.parametrize(("schedule", "field"), BAD_SCHEDULES)
def test_a_bad_schedule_is_a_422_naming_the_field_and_nothing_is_stored(
    client, serialized_flow, schedule, field
):
    body = {"serialized_flow": serialized_flow(schedule=schedule, parameters=[])}
    response = client.post("/flows", json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert tuple(error["loc"]) == (*SCHEDULE, *field)
    assert error["msg"]
    _nothing_stored(client)


@pytest.mark.parametrize(("part", "loc"), BAD_PARTS)
def test_a_bad_storage_run_config_or_executor_is_a_422_naming_the_field(
    client, serialized_flow, part, loc
):
    response = client.post("/flows", json={"serialized_flow": serialized_flow(), **part})
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert tuple(error["loc"]) == loc
    _nothing_stored(client)


def test_the_message_says_how_to_fix_it(client, serialized_flow):
    schedule = {"clocks": [{"type": "CronClock", "cron": "61 * * * *"}]}
    body = {"serialized_flow": serialized_flow(schedule=schedule, parameters=[])}
    [error] = client.post("/flows", json=body).json()["detail"]
    assert "'61 * * * *' is not a valid cron expression" in error["msg"]
    assert "e.g. '0 9 * * 1-5'" in error["msg"]


def test_a_schedule_must_give_a_required_parameter_a_value(client, serialized_flow):
    # The conftest flow's parameter "who" is required: each clock must give it.
    bare = {"clocks": [_clock()]}
    response = client.post("/flows", json={"serialized_flow": serialized_flow(schedule=bare)})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-3:] == ["clocks", 0, "parameter_defaults"]
    assert "'who'" in error["msg"]
    given = {"clocks": [_clock(parameter_defaults={"who": "me"})]}
    response = client.post("/flows", json={"serialized_flow": serialized_flow(schedule=given)})
    assert response.status_code == 201, response.text


def _every_kind_of_schedule() -> Schedule:
    berlin = ZoneInfo("Europe/Berlin")
    return Schedule(
        clocks=[
            IntervalClock(
                dt.timedelta(hours=1), start_date=dt.datetime(2024, 3, 1, 9, tzinfo=berlin)
            ),
            CronClock(
                "0 9 * * 1-5", start_date=dt.datetime(2024, 1, 1, tzinfo=berlin), labels=["a"]
            ),
            DatesClock([dt.datetime(2030, 6, 1, 12, tzinfo=dt.timezone.utc)]),
        ],
        filters=[filters.between_times(dt.time(8), dt.time(18))],
        not_filters=[filters.is_weekend],
        adjustments=[adjustments.add(dt.timedelta(minutes=15))],
    )


def test_every_valid_part_still_registers(client, serialized_flow):
    body = {
        "serialized_flow": serialized_flow(
            schedule=_every_kind_of_schedule().serialize(), parameters=[]
        ),
        "storage": {"type": "Module", "module": "my.flows", "flows": {"etl": ""}},
        "run_config": {"env": {"A": "1", "N": 2, "ON": True}, "image": "x:1", "other": [1]},
        "executor": {"type": "ThreadExecutor", "max_workers": 4},
    }
    response = client.post("/flows", json=body)
    assert response.status_code == 201, response.text


def test_a_schedule_without_clocks_registers_and_makes_no_runs(client, serialized_flow):
    # As Prefect 1's Schedule(clocks=[]): valid, and never due.
    body = {"serialized_flow": serialized_flow(schedule={"clocks": []}, parameters=[])}
    response = client.post("/flows", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["flow"]["has_schedule"] is True


def _insert_flow(db, name: str, schedule) -> uuid.UUID:
    return store_flow_unchecked(db, {"name": name, "parameters": [], "schedule": schedule})


def _run_times(db, flow_id) -> list[float]:
    with db.session() as session:
        query = select(orm.FlowRun.scheduled_start_time).where(orm.FlowRun.flow_id == flow_id)
        return sorted(session.scalars(query))


def test_a_bad_stored_schedule_does_not_stop_the_other_flows(db, caplog):
    bad = [
        _insert_flow(db, "a-bad-cron", {"clocks": [{"type": "CronClock", "cron": "61 * * * *"}]}),
        _insert_flow(db, "b-overflow", {"clocks": [_clock(start_date="0001-01-01T00:00+14:00")]}),
        _insert_flow(db, "c-not-a-dict", "hourly"),
        _insert_flow(db, "d-bad-labels", {"clocks": [_clock(labels=[""])]}),
    ]
    good = _insert_flow(db, "e-good", {"clocks": [_clock(start_date="2020-01-01T00:00:00+00:00")]})
    scheduler = Scheduler(db, SchedulerSettings(max_runs=3), clock=lambda: T0)
    with caplog.at_level(logging.ERROR, logger="weir.server.services.scheduler"):
        assert scheduler.run_once() == 3
        assert scheduler.run_once() == 0
    assert _run_times(db, good) == [T0 + 3600, T0 + 7200, T0 + 10800]
    assert set(scheduler.failing) == set(bad)
    lines = [r.getMessage() for r in caplog.records]
    # One line per bad flow, naming it, though two passes met it.
    assert len(lines) == len(bad)
    for flow_id in bad:
        assert sum(str(flow_id) in line for line in lines) == 1
    assert any("a-bad-cron" in line and "61 * * * *" in line for line in lines)


def test_a_fixed_or_archived_flow_leaves_the_failing_list(db):
    flow_id = _insert_flow(db, "bad", {"clocks": [{"type": "CronClock", "cron": "61 * * * *"}]})
    scheduler = Scheduler(db, SchedulerSettings(max_runs=3), clock=lambda: T0)
    scheduler.run_once()
    assert flow_id in scheduler.failing
    with db.session(write=True) as session:
        session.get(orm.Flow, flow_id).archived = True
    scheduler.run_once()
    assert scheduler.failing == {}
