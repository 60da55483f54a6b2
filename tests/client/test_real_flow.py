"""A real Flow.serialize() goes through registration, scheduling and claiming."""

from __future__ import annotations

import datetime as dt

from weir import Flow, Parameter, task
from weir.client import Client
from weir.schedules import IntervalSchedule
from weir.server.services.scheduler import Scheduler
from weir.server.settings import SchedulerSettings


@task
def extract(n):
    return list(range(n))


@task
def load(x):
    return x


def _flow() -> Flow:
    with Flow("etl", schedule=IntervalSchedule(interval=dt.timedelta(minutes=1))) as flow:
        n = Parameter("n", default=3)
        load.map(extract(n))
    return flow


def test_a_serialized_flow_registers_schedules_and_runs(api_url, client_database):
    flow = _flow()
    with Client(api_url) as client:
        registered = client.register_flow(flow.serialize(), labels=["etl"])
        assert registered.flow.has_schedule
        assert not client.register_flow(_flow().serialize(), labels=["etl"]).created
        scheduler = Scheduler(client_database, SchedulerSettings(max_runs=4))
        assert scheduler.run_once() == 4
        runs = client.list_flow_runs(flow_id=[registered.flow.id], newest_first=False, full=True)
        assert len(runs) == 4
        assert all(r.parameters == {"n": 3} and r.labels == ["etl"] for r in runs)
        starts = [r.scheduled_start_time for r in runs]
        assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [60.0, 60.0, 60.0]
        now = client.create_flow_run(flow_name="etl", parameters={"n": 5})
        [claimed] = client.claim(["etl"])
        assert claimed.id == now.id and claimed.parameters == {"n": 5}
