"""A Prefect 1 flow with a pendulum-built schedule and an RRuleClock, registered with a real
server (SQLite, loopback HTTP) whose scheduler then makes its runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from dateutil import rrule
from sqlalchemy import select

from weir import Flow, Parameter, task
from weir.client import Client
from weir.registration import register_flow
from weir.schedules import Schedule, adjustments, filters
from weir.schedules.clocks import CronClock, IntervalClock, RRuleClock
from weir.server.app import create_app
from weir.server.database import orm
from weir.server.services.scheduler import Scheduler
from weir.server.settings import SchedulerSettings, ServerSettings
from weir.server.testing import LiveServer, temporary_database
from weir.storage import Local

pendulum = pytest.importorskip("pendulum")

NOW = pendulum.datetime(
    2024, 3, 8, 18, tz="UTC"
)  # a Friday afternoon; DST starts in New York on the 10th


@task
def report(region, when=None):
    return f"{region} {when}"


def build_flow() -> Flow:
    # As a Prefect 1 user writes it: pendulum dates, clocks with parameter defaults.
    start = pendulum.datetime(2024, 1, 1, 9, tz="America/New_York")
    schedule = Schedule(
        clocks=[
            IntervalClock(
                dt.timedelta(days=1), start_date=start, parameter_defaults={"region": "us"}
            ),
            CronClock("0 9 * * *", start_date=start, parameter_defaults={"region": "eu"}),
            RRuleClock(
                rrule.rrule(rrule.WEEKLY, byweekday=rrule.MO, dtstart=start.add(hours=3)),
                parameter_defaults={"region": "weekly"},
                labels=["big"],
            ),
        ],
        filters=[filters.is_weekday],
        adjustments=[adjustments.add(pendulum.duration(minutes=5))],
    )
    with Flow("regional-report", schedule=schedule) as flow:
        report(Parameter("region", default="us"))
    return flow


def test_the_schedule_in_the_flow_runs_locally_as_prefect_1_would():
    flow = build_flow()
    events = flow.schedule.next(5, after=NOW, return_events=True)
    assert [(e.start_time.isoformat(), e.parameter_defaults["region"]) for e in events] == [
        # Saturday and Sunday are filtered out; both clocks fire at 09:00: one run each.
        ("2024-03-11T09:05:00-04:00", "us"),
        ("2024-03-11T09:05:00-04:00", "eu"),
        ("2024-03-11T12:05:00-04:00", "weekly"),
        ("2024-03-12T09:05:00-04:00", "us"),
        ("2024-03-12T09:05:00-04:00", "eu"),
    ]


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[Client, object]]:
    with temporary_database("sqlite") as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as live, Client(live.url) as client:
            yield client, db


def test_registered_schedule_makes_the_same_runs_on_the_server(server, tmp_path):
    client, db = server
    flow = build_flow()
    script = tmp_path / "flows.py"
    script.write_text("# stored for the agent; the scheduler reads only the schedule\n")
    flow_id = register_flow(flow, client=client, storage=Local(path=script))
    assert Schedule.deserialize(client.get_flow(flow_id).serialized_flow["schedule"]) == (
        flow.schedule
    )

    settings = SchedulerSettings(max_runs=5, horizon=7 * 24 * 3600)
    scheduler = Scheduler(db, settings, clock=lambda: NOW.timestamp())
    assert scheduler.run_once() == 5
    assert scheduler.run_once() == 0
    with db.session() as session:
        runs = session.scalars(select(orm.FlowRun).order_by(orm.FlowRun.scheduled_start_time))
        made = [(r.scheduled_start_time, r.parameters, r.labels) for r in runs]
    expected = flow.schedule.next(5, after=NOW, return_events=True)
    assert sorted(made, key=lambda m: (m[0], m[1]["region"])) == sorted(
        ((e.start_time.timestamp(), e.parameter_defaults, e.labels or []) for e in expected),
        key=lambda m: (m[0], m[1]["region"]),
    )


def test_flow_run_on_a_schedule_takes_each_clock_s_parameters_then_runs_out() -> None:
    # Prefect 1's Flow.run: a clock's parameter_defaults win over run(parameters=...),
    # and a schedule with no time left is a ValueError.
    from weir.schedules import DatesClock

    @task
    def where(region):
        return region

    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=0.3)
    schedule = Schedule(clocks=[DatesClock([soon], parameter_defaults={"region": "eu"})])
    with Flow("scheduled-once", schedule=schedule) as flow:
        out = where(Parameter("region", default="us"))

    state = flow.run(parameters={"region": "asia"})
    assert state.result[out].result == "eu"
    with pytest.raises(ValueError, match="no more scheduled runs"):
        flow.run()
    assert flow.run(run_on_schedule=False).result[out].result == "us"
