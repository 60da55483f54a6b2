"""Two servers on one PostgreSQL database: the leader killed mid-run, the other goes on.

Real processes throughout: two ``weir server start`` on one database schema (their
services on, heartbeats judged after 2 s), a ``weir agent start`` given both URLs
(leader first), and the flow-run process it starts, which gets both URLs too. The
flow is a chain of tasks, each appending its slug to a file, so that the file
counts every execution. The leader is killed with SIGKILL while the run is
running; the run must end Success with every task run once and every task run's
state on the server, and the other server must take the services over: a new
scheduled flow gets its runs, and lazarus reschedules a run gone silent.
"""

from __future__ import annotations

import collections
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from weir.client import Client
from weir.server.database.engine import Database
from weir.server.testing import free_port, require_postgres, temporary_database
from weir.utilities.waiting import wait_until

from ._procs_fence import HEARTBEAT_SECONDS, HEARTBEAT_TIMEOUT, Proc, base_env

# Two servers, an agent and a run's process start here: on a busy machine that alone
# can take more than the default two minutes.
pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(300)]

#: Tasks in the chain; each sleeps ``nap`` seconds, so the run lasts a few seconds.
N = 80

FLOW = f"""
import os, time
from weir import Flow, Parameter, context, task

@task
def step(x, nap):
    time.sleep(nap)
    with open(os.environ["CHAIN_OUT"], "a") as f:
        f.write(f"{{context.task_slug}}\\n")
    return x + 1

with Flow("two-servers-chain") as flow:
    nap = Parameter("nap", default=0.05)
    x = step(0, nap)
    for _ in range({N - 1}):
        x = step(x, nap)
"""

#: A flow no agent here runs (its label is nobody's): the scheduler's and lazarus's.
ELSEWHERE = "elsewhere"
SCHEDULED = {
    "name": "two-servers-scheduled",
    "tasks": [],
    "edges": [],
    "parameters": [],
    "schedule": {
        "clocks": [
            {"type": "IntervalClock", "interval": 60, "start_date": "2020-01-01T00:00:00+00:00"}
        ]
    },
}


class Servers:
    """Two servers on ``db``, an agent given both URLs, the chain flow registered."""

    def __init__(self, db: Database, tmp: Path) -> None:
        self.db = db
        self.tmp = tmp
        self.home = tmp / "home"
        self.out = tmp / "executions.txt"
        self.procs: list[Proc] = []
        self.urls: list[str] = []
        # One at a time, so that the first is the leader.
        self.first = self._server("a")
        wait_until(lambda: self.services(0) == "leader", 60, self.why)
        self.second = self._server("b")
        self.both = ",".join(self.urls)
        self.client = Client(self.both, retries=8, backoff=0.1)
        self.flow_id = self._register()
        env = base_env(self.home)
        env.update(
            WEIR_API_URL=self.both,
            WEIR_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
            CHAIN_OUT=str(self.out),
        )
        self.agent = Proc(["agent", "start", "--name", "two-servers"], env, tmp / "agent.log")
        self.procs.append(self.agent)

    def _server(self, name: str) -> Proc:
        port = free_port()
        env = base_env(self.home)
        env.update(
            WEIR_DATABASE_SCHEMA=self.db.schema or "",
            WEIR_LAZARUS_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
            WEIR_LAZARUS_LOOP_SECONDS="0.2",
            WEIR_SCHEDULER_LOOP_SECONDS="0.5",
        )
        args = ["server", "start", "--port", str(port), "--database-url", self.db.url]
        proc = Proc([*args, "--log-level", "info"], env, self.tmp / f"server-{name}.log")
        self.procs.append(proc)
        self.urls.append(f"http://127.0.0.1:{port}/api/v1")
        index = len(self.urls) - 1
        wait_until(
            lambda: self.services(index) is not None or proc.popen.poll() is not None,
            120,
            self.why,
        )
        assert proc.popen.poll() is None, self.why()
        return proc

    def services(self, index: int) -> str | None:
        """What server ``index`` says of its services (None if it does not answer)."""
        try:
            answer = httpx.get(f"{self.urls[index]}/health", timeout=2)
        except httpx.HTTPError:
            return None
        return answer.json().get("services") if answer.is_success else None

    def _register(self) -> Any:
        from weir.registration import register_flow
        from weir.storage import Local
        from weir.storage.scripts import flows_in_script

        script = self.tmp / "chain_flow.py"
        script.write_text(textwrap.dedent(FLOW))
        flow = flows_in_script(script)["two-servers-chain"]
        return register_flow(flow, client=self.client, storage=Local(path=script), source=script)

    def executions(self) -> collections.Counter[str]:
        lines = self.out.read_text().splitlines() if self.out.exists() else []
        return collections.Counter(lines)

    def kinds(self, run_id: Any) -> list[str]:
        return [e.kind for e in self.client.get_trace(run_id)]

    def why(self) -> str:
        return "\n".join(f"--- {p.log.name}\n{p.output()[-3000:]}" for p in self.procs)

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.client.close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    require_postgres()
    with temporary_database("postgresql") as db:
        made = Servers(db, tmp_path)
        try:
            yield made
        finally:
            made.close()


def test_the_leader_killed_mid_run_the_run_finishes_once_and_the_other_leads(
    servers: Servers,
) -> None:
    client = servers.client
    # The second server follows while the first holds the lock: its services never
    # started (it says so, and its log never said it leads).
    assert servers.services(0) == "leader" and servers.services(1) == "follower"

    run = client.create_flow_run(servers.flow_id)
    wait_until(
        lambda: (
            client.get_flow_run(run.id).state.type.value == "Running"
            and sum(servers.executions().values()) >= 10
        ),
        60,
        servers.why,
    )
    assert servers.services(1) == "follower"
    assert "This server leads" not in servers.second.output()
    assert "This server leads" in servers.first.output()

    servers.first.kill()
    killed = time.monotonic()
    wait_until(lambda: servers.services(1) == "leader", 60, servers.why)
    took_over = time.monotonic() - killed

    final = client.wait_for_flow_run(run.id, poll=0.2, timeout=120)
    assert final.state.type.value == "Success", (final.state, servers.why())
    ran = servers.executions()
    assert len(ran) == N, servers.why()
    assert {slug: n for slug, n in ran.items() if n != 1} == {}, servers.why()
    # Nothing lost: every task run's end is on the server, read from the survivor.
    steps = [t for t in client.list_task_runs(run.id) if t.task_slug.startswith("step")]
    assert len(steps) == N and {t.state.type.value for t in steps} == {"Success"}
    # One process ran it, from one claim: not rescheduled while its server changed.
    kinds = wait_until(lambda: (k := servers.kinds(run.id)).count("process_exited") and k, 30)
    assert kinds.count("claimed") == 1, kinds
    assert kinds.count("process_started") == 1, kinds
    assert kinds.count("flow_run_finished") == 1, kinds
    assert "rescheduled_by_lazarus" not in kinds, kinds
    assert final.attempt == 1

    # The survivor's scheduler: a flow registered now gets its runs.
    scheduled = client.register_flow(SCHEDULED, labels=[ELSEWHERE]).flow
    wait_until(lambda: client.list_flow_runs(flow_id=scheduled.id), 30, servers.why)
    # The survivor's lazarus: a run Running and silent (its "process" never heartbeats)
    # is rescheduled.
    client.create_flow_run(scheduled.id)  # due now (the scheduler's may not be yet)
    [claimed] = client.claim([ELSEWHERE], limit=1)
    client.set_flow_run_state(claimed.id, {"type": "Running"}, claimed.version)
    wait_until(lambda: "rescheduled_by_lazarus" in servers.kinds(claimed.id), 60, servers.why)
    print(f"The second server led {took_over:.1f} s after the first was killed.")


def test_a_second_server_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'weir.db'}"
    env = base_env(tmp_path / "home")
    ports = [free_port(), free_port()]
    args = ["server", "start", "--database-url", url, "--log-level", "warning", "--port"]
    first = Proc([*args, str(ports[0])], env, tmp_path / "first.log")
    try:
        wait_until(lambda: _answers(ports[0]) or first.popen.poll() is not None, 120, first.output)
        second = Proc([*args, str(ports[1])], env, tmp_path / "second.log")
        second.popen.wait(120)
        assert second.popen.returncode != 0
        said = " ".join(second.output().split())
        assert "Another weir server already serves the SQLite database" in said, said
        assert "move to PostgreSQL" in said
        assert _answers(ports[0])
    finally:
        first.stop()


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).is_success
    except httpx.HTTPError:
        return False
