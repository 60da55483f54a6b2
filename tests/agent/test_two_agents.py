"""Two agents on one server (SQLite and PostgreSQL): every run starts exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from weir.agent import LocalAgent
from weir.client import Client
from weir.engine.state import FINISHED_TYPES
from weir.server.database.engine import Database
from weir.server.testing import LiveServer, clear
from weir.utilities.waiting import wait_until

from .conftest import register_nap

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgres"])
def server_url(request: pytest.FixtureRequest) -> Iterator[str]:
    server, db = request.getfixturevalue(f"{request.param}_server")
    assert isinstance(server, LiveServer) and isinstance(db, Database)
    clear(db)
    yield server.url


def test_two_agents_never_start_a_run_twice(server_url, tmp_path):
    with Client(server_url) as client:
        flow_id = register_nap(client)
        runs = [client.create_flow_run(flow_id, parameters={"seconds": 0.0}) for _ in range(6)]
        agents = [
            LocalAgent(api_url=server_url, name=name, env={"WEIR_HOME": str(tmp_path)})
            for name in ("left", "right")
        ]
        done = threading.Event()

        def work(agent: LocalAgent) -> None:
            while not done.is_set():
                agent.run_once(wait=0.2)
            agent.shutdown(grace_period=30)

        threads = [threading.Thread(target=work, args=(a,)) for a in agents]
        for t in threads:
            t.start()
        try:
            wait_until(
                lambda: all(client.get_flow_run(r.id).state.type in FINISHED_TYPES for r in runs),
                60,
                "the runs did not finish in time",
            )
        finally:
            done.set()
            for t in threads:
                t.join(60)
        launched_by: Counter[str] = Counter()
        for run in runs:
            trace = client.get_trace(run.id)
            kinds = Counter(e.kind for e in trace)
            assert kinds["claimed"] == 1 and kinds["process_launched"] == 1, kinds
            assert kinds["process_started"] == 1, kinds
            launched_by.update(e.data["agent"] for e in trace if e.kind == "process_launched")
            assert client.get_flow_run(run.id).state.type.value == "Success"
        assert sum(launched_by.values()) == 6
        for agent in agents:
            agent.client.close()
