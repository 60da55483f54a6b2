"""No flow run executes twice: a server outage, and a process whose run was taken over.

Real processes throughout: ``weir server start`` (services on, heartbeats judged
after 2 s), ``weir agent start``, and the flow-run processes the agent starts.
The flow is a chain of tasks, each appending its slug to a file, so that the
file counts every execution.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from weir.client import Client
from weir.server.database.engine import Database
from weir.server.testing import (
    free_port,
    postgres_available,
    temporary_database,
)
from weir.utilities.waiting import wait_until

from ._procs_fence import HEARTBEAT_TIMEOUT, Proc, start_agent, start_server

pytestmark = [pytest.mark.slow, pytest.mark.integration]

#: Tasks in the chain; each sleeps ``nap`` seconds, so a run lasts a few seconds.
N = 150

FLOW = f"""
import os, time
from weir import Flow, Parameter, context, task

@task
def step(x, nap):
    time.sleep(nap)
    with open(os.environ["FENCE_OUT"], "a") as f:
        f.write(f"{{context.task_slug}} {{context.get('map_index')}}\\n")
    return x + 1

with Flow("fence-chain") as flow:
    nap = Parameter("nap", default=0.03)
    x = step(0, nap)
    for _ in range({N - 1}):
        x = step(x, nap)
"""


# One database, server and agent for the module's tests on each backend: starting them
# takes longer than a test's run. A test that kills the server leaves a new one behind.
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    if request.param == "postgresql" and not postgres_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432; start it.")
    with temporary_database(request.param) as db:
        yield db


class Setup:
    """A server and an agent on a fresh database, the flow registered, files in tmp."""

    def __init__(self, db: Database, tmp: Path) -> None:
        self.db = db
        self.tmp = tmp
        self.home = tmp / "home"
        self.out = tmp / "executions.txt"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.servers: list[Proc] = []
        self.server = self.start_server()
        self.client = Client(self.url, retries=8, backoff=0.1)
        self.flow_id = self._register()
        self.agent = start_agent(self.url, self.home, tmp / "agent.log", FENCE_OUT=str(self.out))

    def start_server(self) -> Proc:
        log = self.tmp / f"server-{len(self.servers)}.log"
        server = start_server(self.db, self.port, self.home, log)
        self.servers.append(server)
        return server

    def _register(self) -> Any:
        from weir.registration import register_flow
        from weir.storage import Local
        from weir.storage.scripts import flows_in_script

        script = self.tmp / "fence_flow.py"
        script.write_text(textwrap.dedent(FLOW))
        flow = flows_in_script(script)["fence-chain"]
        return register_flow(flow, client=self.client, storage=Local(path=script), source=script)

    def executions(self) -> collections.Counter[str]:
        lines = self.out.read_text().splitlines() if self.out.exists() else []
        return collections.Counter(line.split()[0] for line in lines)

    def kinds(self, run_id: Any) -> list[str]:
        return [e.kind for e in self.client.get_trace(run_id)]

    def why(self) -> str:
        parts = [f"--- {p.log.name}\n{p.output()[-3000:]}" for p in [*self.servers, self.agent]]
        return "\n".join(parts)

    def close(self) -> None:
        self.agent.stop()
        for server in self.servers:
            server.stop()
        self.client.close()


@pytest.fixture(scope="module")
def started(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    made = Setup(database, tmp_path_factory.mktemp("fence"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def setup(started: Setup) -> Setup:
    started.out.unlink(missing_ok=True)  # this test's executions only
    return started


def _state(setup: Setup, run_id: Any) -> str:
    return setup.client.get_flow_run(run_id).state.type.value


def _running_with_tasks_done(setup: Setup, run_id: Any, done: int) -> None:
    wait_until(
        lambda: _state(setup, run_id) == "Running" and sum(setup.executions().values()) >= done,
        60,
        setup.why,
    )


def _each_task_ran_once(setup: Setup) -> None:
    ran = setup.executions()
    assert len(ran) == N, setup.why()
    assert {slug: n for slug, n in ran.items() if n != 1} == {}, setup.why()


def test_a_server_killed_mid_run_and_back_after_the_heartbeat_timeout_runs_it_once(
    setup: Setup,
) -> None:
    # Long enough to go on after the server is back: its heartbeats must be heard then.
    run = setup.client.create_flow_run(setup.flow_id, parameters={"nap": 0.06})
    _running_with_tasks_done(setup, run.id, 10)
    setup.server.kill()
    # Away for longer than lazarus's timeout: every heartbeat is stale at the restart.
    time.sleep(HEARTBEAT_TIMEOUT * 1.5)
    setup.server = setup.start_server()
    assert _state(setup, run.id) == "Running", setup.why()
    final = setup.client.wait_for_flow_run(run.id, poll=0.2, timeout=60)
    assert final.state.type.value == "Success", (final.state, setup.why())
    _each_task_ran_once(setup)
    # The process sends its last trace events after the run's end: once it has exited.
    kinds = wait_until(lambda: (k := setup.kinds(run.id)).count("process_exited") and k, 30)
    assert kinds.count("claimed") == 1, kinds
    assert kinds.count("flow_run_finished") == 1, kinds
    assert kinds.count("process_started") == 1, kinds
    assert "rescheduled_by_lazarus" not in kinds, kinds
    assert final.attempt == 1


def test_a_process_paused_past_the_timeout_is_taken_over_and_then_stops(setup: Setup) -> None:
    client = setup.client
    run = client.create_flow_run(setup.flow_id, parameters={"nap": 0.02})
    _running_with_tasks_done(setup, run.id, 10)
    wait_until(  # some reported too
        lambda: any(
            t.state.type.value == "Success" and t.task_slug.startswith("step")
            for t in client.list_task_runs(run.id)
        ),
        30,
        setup.why,
    )
    [first] = wait_until(
        lambda: [e.data["pid"] for e in client.get_trace(run.id) if e.kind == "process_started"],
        30,
        setup.why,
    )
    os.kill(first, signal.SIGSTOP)
    try:
        # What the server holds as finished when the first process falls silent (read
        # now: the second process soon finishes more, some of which the first ran too
        # but had not reported yet).
        held = {
            t.task_slug
            for t in client.list_task_runs(run.id)
            if t.state.type.value == "Success" and t.task_slug.startswith("step")
        }
        # Lazarus reschedules the silent run, and the agent starts a second process.
        wait_until(lambda: setup.kinds(run.id).count("process_started") == 2, 60, setup.why)
        assert client.get_flow_run(run.id).attempt == 2
    finally:
        # Its agent killed it when it started the new attempt: usually gone by now.
        with contextlib.suppress(ProcessLookupError):
            os.kill(first, signal.SIGCONT)
    final = client.wait_for_flow_run(run.id, poll=0.2, timeout=60)
    assert final.state.type.value == "Success", (final.state, setup.why())
    # The processes send their last trace events after the run's end: once both exited.
    wait_until(lambda: setup.kinds(run.id).count("process_exited") == 2, 30, setup.why)
    ran = setup.executions()
    assert len(ran) == N, setup.why()
    assert held and {slug: ran[slug] for slug in held if ran[slug] != 1} == {}, setup.why()
    # One end, written once, by the second attempt: the first wrote nothing after it woke.
    history = [h.state.type.value for h in client.flow_run_states(run.id)]
    assert history[-5:] == ["Running", "Scheduled", "Submitted", "Running", "Success"], history
    assert history.count("Success") == 1 and "Cancelled" not in history, history
    kinds = setup.kinds(run.id)
    assert kinds.count("flow_run_finished") == 1, kinds
    assert kinds.count("rescheduled_by_lazarus") == 1, kinds
    # The agent killed the old process when it took the run over (a stopped process is
    # not vouched for by its heartbeats), so nothing it was in the middle of went on.
    output = setup.agent.output()
    assert f"is taken over by attempt 2: pid {first} ran 1; sending it SIGKILL" in output
    assert "which a later attempt took over, exited with code -9" in output
