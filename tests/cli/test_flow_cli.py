"""``weir flow show`` and ``weir flow schedule on|off``, against a live server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from weir import Flow, Parameter, task
from weir.cli.main import cli
from weir.client import Client
from weir.schedules import CronClock, Schedule


@task
def double(n: int) -> int:
    return 2 * n


def _serialized(schedule: Schedule | None) -> dict:
    with Flow("nightly", schedule=schedule) as flow:
        double(Parameter("n", default=3))
    return flow.serialize()


@pytest.fixture
def invoke(api_url):
    runner = CliRunner()

    def run(*args: str):
        env = {"WEIR_API_URL": api_url, "COLUMNS": "200"}
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


def test_show_prints_parameters_schedule_and_latest_runs(api_url, invoke):
    with Client(api_url) as c:
        flow = c.register_flow(_serialized(Schedule(clocks=[CronClock("0 3 * * *")]))).flow
        run = c.create_flow_run(flow.id, name="by-hand")
    shown = invoke("flow", "show", "nightly")
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert f"nightly v1 in project default ({flow.id})" in out
    assert "Parameters" in out and "n" in out and "3" in out
    assert "schedule: on; CronClock '0 3 * * *'" in out
    upcoming = out.split("next: ")[1].splitlines()[0].split(", ")
    assert len(upcoming) == 3 and all(":00:00" in at for at in upcoming)
    assert "by-hand" in out and str(run.id) in out


def test_schedule_off_and_on(api_url, invoke):
    with Client(api_url) as c:
        flow = c.register_flow(_serialized(Schedule(clocks=[CronClock("0 3 * * *")]))).flow
    off = invoke("flow", "schedule", "off", "nightly")
    assert off.exit_code == 0, off.output
    assert "is off" in off.output
    with Client(api_url) as c:
        assert c.get_flow(flow.id).schedule_active is False
    assert "schedule: off" in invoke("flow", "show", str(flow.id)).output
    on = invoke("flow", "schedule", "on", "nightly")
    assert on.exit_code == 0 and "is on." in on.output
    with Client(api_url) as c:
        assert c.get_flow(flow.id).schedule_active is True


def test_schedule_of_a_flow_without_one_is_a_clear_error(api_url, invoke):
    with Client(api_url) as c:
        c.register_flow(_serialized(None))
    result = invoke("flow", "schedule", "on", "nightly")
    assert result.exit_code == 1
    assert "has no schedule" in result.output
    missing = invoke("flow", "show", "nope")
    assert missing.exit_code == 1 and "`weir flow ls`" in missing.output


def _hourly_with_params() -> dict:
    import datetime as dt

    from weir.schedules import IntervalClock

    clock = IntervalClock(
        dt.timedelta(hours=1),
        start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        parameter_defaults={"n": 7},
    )
    return _serialized(Schedule(clocks=[clock]))


def test_backfill_makes_the_windows_runs_once(api_url, invoke):
    import datetime as dt

    with Client(api_url) as c:
        flow = c.register_flow(_hourly_with_params()).flow
    window = ("--start", "2026-03-01T00:00:00Z", "--end", "2026-03-01T03:00:00")
    first = invoke("flow", "backfill", "nightly", *window)
    assert first.exit_code == 0, first.output
    assert "4 runs created, 0 already there" in first.output
    again = invoke(
        "flow",
        "backfill",
        "nightly",
        "--start",
        "2026-03-01T02:00:00Z",
        "--end",
        "2026-03-01T05:00:00Z",
    )
    assert "2 runs created, 2 already there" in again.output
    with Client(api_url) as c:
        runs = c.list_flow_runs(flow_id=[flow.id], newest_first=False, full=True)
    starts = sorted(r.scheduled_start_time for r in runs)
    hour0 = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc).timestamp()
    assert starts == [hour0 + 3600 * h for h in range(6)]
    assert all(r.parameters == {"n": 7} and r.state.type.value == "Scheduled" for r in runs)


def test_backfill_refuses_what_cannot_be_backfilled(api_url, invoke):
    with Client(api_url) as c:
        c.register_flow(_hourly_with_params())
    backwards = invoke(
        "flow", "backfill", "nightly", "--start", "2026-03-02", "--end", "2026-03-01"
    )
    assert backwards.exit_code == 1 and "end is before start" in backwards.output
    bad = invoke("flow", "backfill", "nightly", "--start", "yesterday", "--end", "2026-03-01")
    assert bad.exit_code == 2 and "not an ISO 8601 time" in bad.output
    too_long = invoke("flow", "backfill", "nightly", "--start", "2026-01-01", "--end", "2028-01-01")
    assert too_long.exit_code == 1 and "shorter windows" in too_long.output
    with Client(api_url) as c:
        c.register_flow(_serialized(None))
    none = invoke("flow", "backfill", "nightly", "--start", "2026-03-01", "--end", "2026-03-02")
    assert none.exit_code == 1 and "has no schedule" in none.output
