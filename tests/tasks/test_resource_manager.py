"""weir.resource_manager: setup before, cleanup after the tasks of a block (Prefect 1's)."""

from __future__ import annotations

import pytest

from weir import Flow, Parameter, case, resource_manager, task
from weir.engine.state import Skipped, Success, TriggerFailed
from weir.tasks.core.resource_manager import (
    ResourceCleanupTask,
    ResourceInitTask,
    ResourceManager,
    ResourceSetupTask,
)

EVENTS: list[tuple[str, object]] = []


@resource_manager
class Connection:
    def __init__(self, url="mem://", fail_setup=False):
        self.url = url
        self.fail_setup = fail_setup

    def setup(self):
        if self.fail_setup:
            raise ConnectionError("no route")
        EVENTS.append(("setup", self.url))
        return {"url": self.url, "open": True}

    def cleanup(self, conn):
        EVENTS.append(("cleanup", conn["url"]))


@task
def query(conn, fail=False):
    if fail:
        raise ValueError("bad query")
    return f"rows from {conn['url']}"


@task
def count(rows):
    return len(rows)


@pytest.fixture(autouse=True)
def _clear_events():
    EVENTS.clear()


def build(**manager_args):
    with Flow("db") as flow:
        fail = Parameter("fail", default=False)
        with Connection(**manager_args) as conn:
            rows = query(conn, fail)
            n = count(rows)
    return flow, {"rows": rows, "n": n, "fail": fail}


def test_the_block_runs_between_setup_and_cleanup():
    flow, t = build(url="db://a")
    (init,) = flow.get_tasks(task_type=ResourceInitTask)
    (setup,) = flow.get_tasks(task_type=ResourceSetupTask)
    (cleanup,) = flow.get_tasks(task_type=ResourceCleanupTask)
    assert (init.name, setup.name, cleanup.name) == (
        "Connection",
        "Connection.setup",
        "Connection.cleanup",
    )
    assert setup in flow.upstream_tasks(t["rows"])
    assert flow.upstream_tasks(cleanup) == {init, setup, t["n"]}
    assert flow.upstream_tasks(t["fail"]) == set()  # a Parameter stays a root
    state = flow.run()
    assert state.is_successful()
    assert state.result[t["n"]].result == len("rows from db://a")
    assert EVENTS == [("setup", "db://a"), ("cleanup", "db://a")]


def test_cleanup_runs_after_a_failure_and_the_flow_still_fails():
    flow, t = build()
    state = flow.run(parameters={"fail": True})
    assert not state.is_successful()  # init and cleanup are not reference tasks
    assert isinstance(state.result[t["n"]], TriggerFailed)
    assert EVENTS == [("setup", "mem://"), ("cleanup", "mem://")]
    assert flow.reference_tasks() == {t["n"]}


def test_a_failed_setup_skips_cleanup():
    flow, t = build(fail_setup=True)
    state = flow.run()
    (cleanup,) = flow.get_tasks(task_type=ResourceCleanupTask)
    assert isinstance(state.result[cleanup], Skipped)
    assert "setup did not succeed" in state.result[cleanup].message
    assert EVENTS == []


def test_a_skipped_block_skips_setup_and_cleanup():
    @task
    def branch():
        return False

    with Flow("skipped") as flow:
        with case(branch(), True), Connection() as conn:
            query(conn)
    state = flow.run()
    (cleanup,) = flow.get_tasks(task_type=ResourceCleanupTask)
    assert isinstance(state.result[cleanup], Skipped)
    assert EVENTS == []


def test_a_class_without_setup_makes_no_setup_task():
    @resource_manager(name="lock", cleanup_task_kwargs={"tags": ["io"]})
    class Lock:
        def cleanup(self, resource):
            EVENTS.append(("released", resource))

    with Flow("lock") as flow:
        with Lock() as nothing:
            t = count("abc")
    assert nothing is None
    assert flow.get_tasks(task_type=ResourceSetupTask) == []
    (cleanup,) = flow.get_tasks(task_type=ResourceCleanupTask)
    assert (cleanup.name, cleanup.tags) == ("lock.cleanup", {"io"})
    state = flow.run()
    assert isinstance(state.result[t], Success) and EVENTS == [("released", None)]


def test_mistakes_are_named():
    with pytest.raises(TypeError, match="needs a class with a cleanup"):
        ResourceManager(dict)
    with pytest.raises(ValueError, match="'Connection' was used outside a flow"):
        Connection()
