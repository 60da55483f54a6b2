"""Prefect 1 flows that read and set the context, ported by changing ``prefect`` to ``weir``.

Each flow is written as Prefect 1's docs write it (``docs/core/concepts/execution.md``,
``docs/core/concepts/logging.md``, ``prefect.utilities.context``); each test checks the
result Prefect 1 gives for it.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

import weir
from weir import Flow, Parameter, task
from weir.engine import signals
from weir.engine.state import Failed, Success


@task
def try_unlock():
    if weir.context.key == "abc":
        return True
    else:
        raise signals.FAIL()


def test_modifying_context_at_runtime():
    # Prefect 1 docs, "Modifying context at runtime": run flows under different
    # situations for rapid iterative development.
    with Flow("Using Context") as flow:
        try_unlock()

    assert isinstance(flow.run(), Failed)  # this run fails

    with weir.context(key="abc"):
        state = flow.run()  # this run is successful
    assert isinstance(state, Success)


def test_three_ways_to_read_a_value():
    # Prefect 1 docs: "can access it one of three ways".
    with weir.context(a=1):
        assert weir.context.a == 1
        assert weir.context["a"] == 1
        assert weir.context.get("a") == 1
    with weir.context(dict(a=1, b=2)):
        assert (weir.context.a, weir.context.b) == (1, 2)
    assert weir.context.get("a") is None  # undefined once the block ends


@task
def report_start_day():
    logger = weir.context.get("logger")
    logger.info(weir.context.today)
    return weir.context.today


def test_prefect_supplied_context(caplog: pytest.LogCaptureFixture):
    # Prefect 1 docs, "Prefect-supplied context": tasks know the day they run.
    with Flow("My flow") as flow:
        day = report_start_day()

    before = dt.datetime.now(dt.timezone.utc).date().isoformat()
    with caplog.at_level(logging.INFO):
        state = flow.run()
    today = state.result[day].result
    assert before <= today <= dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert ("weir.report_start_day", logging.INFO, today) in caplog.record_tuples


@task
def process_day():
    return weir.context.yesterday, weir.context.today_nodash


def test_backfill_by_overriding_the_date_keys():
    # Prefect 1 docs: the timestamp keys may be set per run, e.g. for backfills.
    with Flow("backfill") as flow:
        r = process_day()
    state = flow.run(context={"today_nodash": "20200101", "yesterday": "2019-12-31"})
    assert state.result[r].result == ("2019-12-31", "20200101")
    with weir.context(date="2020-03-01T00:00:00+00:00"):
        state = flow.run()
    assert state.result[r].result == ("2020-02-29", "20200301")


@task(task_run_name="{val}")
def compute(val):
    return weir.context.task_run_name, weir.context.task_full_name


def generate_task_run_name(val: str, **kwargs):
    """
    Replace spaces with '-' and truncate at 10 characters.
    """
    val = val.replace(" ", "-")
    if len(val) > 10:
        val = val[:10]
    return val


@task(task_run_name=generate_task_run_name)
def compute_long(val: str):
    return weir.context.task_run_name


@task(task_run_name="{date:%A}-{date:%b}-{date:%d}")
def compute_dated():
    return weir.context.task_run_name


@task(task_run_name="{greeting}-{val}")
def greet(val):
    return weir.context.task_run_name


def test_task_run_names():
    # Prefect 1 docs (templating.md, idioms/task-run-names.md): a format string or a
    # callable, given the task's inputs, the flow's parameters and the context.
    with Flow("template-example") as flow:
        one = compute(val="hello")
        many = compute.map(["a", "b"])
        long = compute_long(val="hello this is a kind of long sentence")
        dated = compute_dated()
        greeting = greet(1, upstream_tasks=[Parameter("greeting", default="hi")])
    state = flow.run(context={"date": "2021-03-05T10:00:00+00:00"})
    assert state.result[one].result == ("hello", "compute")
    assert state.result[many].result == [("a", "compute[0]"), ("b", "compute[1]")]
    assert state.result[long].result == "hello-this"
    assert state.result[dated].result == "Friday-Mar-05"
    assert state.result[greeting].result == "hi-1"


@task(max_retries=1, retry_delay=dt.timedelta(seconds=0))
def flaky():
    if weir.context.task_run_count == 1:
        raise ValueError("first attempt fails")
    return weir.context.task_run_count


@task
def about_the_run(x):
    ctx = weir.context
    return {
        "flow_name": ctx.flow_name,
        "parameters": ctx.parameters,
        "task_name": ctx.task_name,
        "task_tags": ctx.task_tags,
        "has_flow_run_name": isinstance(ctx.get("flow_run_name"), str),
    }


def test_flow_and_task_keys():
    with Flow("keys") as flow:
        n = Parameter("n", default=2)
        runs = flaky()
        about = about_the_run(n, upstream_tasks=[runs], task_args={"tags": ["db"]})
    state = flow.run(parameters={"n": 3})
    assert state.result[runs].result == 2
    assert state.result[about].result == {
        "flow_name": "keys",
        "parameters": {"n": 3},
        "task_name": "about_the_run",
        "task_tags": {"db"},
        "has_flow_run_name": True,
    }


def test_a_copy_of_the_context_is_a_snapshot():
    seen = {}

    @task
    def look():
        snapshot = weir.context.copy()
        weir.context["later"] = 1
        seen.update(snapshot)
        seen["name"] = snapshot.task_name
        return "later" in snapshot

    with Flow("copy") as flow:
        look()

    with weir.context(region="eu"):
        state = flow.run()
    assert state.is_successful()
    assert seen["region"] == "eu" and seen["name"] == "look" and seen["flow_name"] == "copy"
    assert "later" not in seen


def test_the_run_times_are_pendulum_datetimes_as_in_prefect_1():
    # Ported tasks call pendulum's methods on these (Prefect 1 gave pendulum DateTimes).
    import pendulum

    from weir import DateTimeParameter

    @task
    def window(since):
        start = weir.context.date
        return (
            start.subtract(days=1).to_date_string(),
            weir.context.scheduled_start_time.in_timezone("Europe/Paris").format("HH:mm"),
            (since + dt.timedelta(hours=1)).isoformat(),
            type(weir.context.copy()["date"]),
        )

    with Flow("pendulum") as flow:
        out = window(DateTimeParameter("since"))

    with weir.context(date="2024-03-01T10:00:00+00:00"):
        state = flow.run(since="2024-02-01T00:00:00Z")
    yesterday, paris_time, since, copied = state.result[out].result
    assert yesterday == "2024-02-29"
    assert len(paris_time) == 5 and paris_time[2] == ":"
    assert since == "2024-02-01T01:00:00+00:00"
    assert copied is pendulum.DateTime


def test_pop_removes_a_value_set_in_the_context():
    with weir.context(token="t-1"):
        assert weir.context.pop("token") == "t-1"
        assert weir.context.get("token") is None
        assert weir.context.pop("token", "gone") == "gone"
        with pytest.raises(KeyError, match="not set in the current context"):
            weir.context.pop("token")


def test_context_values_from_the_environment_as_prefect_1_read_them(monkeypatch):
    # PREFECT__CONTEXT__<KEY> with weir's prefix: typed, nested, secrets keep their case.
    monkeypatch.setenv("WEIR__CONTEXT__REGION", "eu-west")
    monkeypatch.setenv("WEIR__CONTEXT__BATCH_SIZE", "500")
    monkeypatch.setenv("WEIR__CONTEXT__DRY_RUN", "True")
    monkeypatch.setenv("WEIR__CONTEXT__DB__PORT", "5432")
    monkeypatch.setenv("WEIR__CONTEXT__SECRETS__Api_Token", "tok-123")
    seen = {}

    @task
    def look():
        ctx = weir.context
        seen.update(
            region=ctx.region,
            batch=ctx.get("batch_size"),
            dry=ctx["dry_run"],
            port=ctx.db["port"] if ctx.db.port == ctx.db["port"] else None,
            token=ctx.secrets["Api_Token"] if ctx.secrets.Api_Token else None,
            listed="region" in ctx.to_dict(),
        )

    with Flow("env-context") as flow:
        look()

    with weir.context(region="us-east"):  # a value set in the context wins
        assert weir.context.region == "us-east"
    assert flow.run().is_successful()
    assert seen == {
        "region": "eu-west",
        "batch": 500,
        "dry": True,
        "port": 5432,
        "token": "tok-123",
        "listed": True,
    }
    assert weir.context.get("region") == "eu-west"  # outside a run too
