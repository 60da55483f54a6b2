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
