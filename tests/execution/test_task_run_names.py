"""Task-run names (Prefect 1's ``task_run_name``) reach the server, as its UI shows them."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from weir.client import Client
from weir.engine.state import Retrying, Running, Success
from weir.execution.reporter import ApiReporter
from weir.server.database.engine import Database

from .conftest import ONE_TASK, Harness

NAMED = """
from weir import Flow, Parameter, task

@task(task_run_name="load-{table}")
def load(table):
    return table

@task(task_run_name=lambda **kw: f"sum of {len(kw['values'])}")
def total(values):
    return len(values)

@task(max_retries=1, retry_delay=0, task_run_name="flaky-{day}")
def flaky(day):
    import weir
    if weir.context.get("task_run_count", 1) == 1:
        raise ValueError("first try fails")
    return day

@task
def plain():
    return 1

with Flow("named") as flow:
    loaded = load.map(["orders", "customers"])
    total(loaded)
    flaky(Parameter("day", default="monday"))
    plain()
"""


@contextlib.contextmanager
def _reporter(client: Client, run: Any) -> Iterator[ApiReporter]:
    """The run's reporter, sending only when flushed; closed at the block's end."""
    reporter = ApiReporter(client, run.id, run.version, interval=60)
    try:
        yield reporter
    finally:
        reporter.close()


def test_names_made_by_task_run_name_are_stored_with_their_task_runs(
    harness: Harness, client: Client
) -> None:
    run = client.create_flow_run(flow_id=harness.register(NAMED)["named"])
    harness.execute(run.id)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    names = {(t.task_slug, t.map_index): t.name for t in client.list_task_runs(run.id)}
    assert names == {
        ("load-1", -1): None,  # the mapped parent runs nothing of its own
        ("load-1", 0): "load-orders",
        ("load-1", 1): "load-customers",
        ("total-1", -1): "sum of 2",
        ("flaky-1", -1): "flaky-monday",  # kept through its retry
        ("plain-1", -1): None,
        ("day", -1): None,
        ("Constant[list]-1", -1): None,
    }
    # The run page's table has them too, each beside its task.
    rows = httpx.get(f"{client.api_url}/ui/flow_runs/{run.id}/task_runs?slug=load-1").json()
    assert [(r["map_index"], r["name"]) for r in rows["rows"]] == [
        (0, "load-orders"),
        (1, "load-customers"),
    ]
    # And `weir flow-run show` prints them beside the task.
    shown = subprocess.run(
        [sys.executable, "-m", "weir", "flow-run", "show", str(run.id)],
        env={**harness.env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "load-1[0] (load-orders)" in shown
    assert "flaky-1 (flaky-monday)" in shown


def test_a_name_rides_on_the_task_run_s_next_item_and_stays_until_replaced(
    harness: Harness, client: Client, database: Database
) -> None:
    run = client.create_flow_run(flow_id=harness.register(ONE_TASK)["one"])
    with _reporter(client, run) as reporter:
        reporter.task_run_name("a-1", None, "first\x00name")
        reporter.task_run_state("a-1", None, Running())
        reporter.flush()
        reporter.task_run_state("a-1", None, Retrying(start_time=0, run_count=1))  # no name
        reporter.flush()
    [task_run] = client.list_task_runs(run.id)
    assert task_run.state.type.value == "Retrying"
    # PostgreSQL's text cannot hold a NUL: it is stored as U+FFFD, as in a message.
    assert task_run.name == ("first\x00name" if database.is_sqlite else "first\ufffdname")
    # The next attempt's item names it again: the new name replaces the old.
    item = {"flow_run_id": str(run.id), "task_slug": "a-1", "name": "second"}
    client.upsert_task_runs([{**item, "state": {"type": "Running", "timestamp": 2e9}}])
    assert client.get_task_run(task_run.id).name == "second"
    # A refused item changes nothing, its name included.
    [refused] = client.upsert_task_runs(
        [{**item, "name": "third", "state": {"type": "Pending", "timestamp": 3e9}}]
    )
    assert not refused.accepted
    assert client.get_task_run(task_run.id).name == "second"


def test_a_name_longer_than_the_server_keeps_is_refused_by_its_field(
    harness: Harness, client: Client
) -> None:
    run = client.create_flow_run(flow_id=harness.register(ONE_TASK)["one"])
    item = {
        "flow_run_id": str(run.id),
        "task_slug": "a-1",
        "state": {"type": "Running", "timestamp": 1e9},
        "name": "x" * 501,
    }
    response = httpx.post(f"{client.api_url}/task_runs/batch", json=[item])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 0, "name"]
    assert client.list_task_runs(run.id) == []


@pytest.mark.parametrize("length", [501, 5000])
def test_the_reporter_cuts_a_name_the_server_refuses_and_keeps_the_states(
    harness: Harness, client: Client, length: int
) -> None:
    run = client.create_flow_run(flow_id=harness.register(ONE_TASK)["one"])
    with _reporter(client, run) as reporter:
        reporter.task_run_name("a-1", None, "n" * length)
        reporter.task_run_state("a-1", None, Running())
        reporter.task_run_state("a-1", None, Success())
        reporter.flush()
    [task_run] = client.list_task_runs(run.id)
    assert task_run.state.type.value == "Success"
    assert task_run.name is not None and task_run.name.startswith("nnn")
    assert len(task_run.name) <= 500
