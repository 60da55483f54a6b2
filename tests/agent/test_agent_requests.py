"""What an agent and a run's process ask of the server: its trace events ride on requests
it makes anyway, and an older server that refuses them still gets every event."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from weir.agent import LocalAgent
from weir.client import Client
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, clear
from weir.utilities.waiting import wait_until

from .conftest import register_nap


def _kinds(client: Client, run_id: object) -> list[str]:
    return [e.kind for e in client.get_trace(run_id)]


def _serve_one_run(agent: LocalAgent, client: Client, flow_id: str) -> Any:
    """Let the agent serve until a new run of ``flow_id`` ended and its exit is traced."""
    serving = threading.Thread(target=agent.serve, daemon=True)
    serving.start()
    try:
        run = client.create_flow_run(flow_id, parameters={"seconds": 0.0})
        wait_until(lambda: "process_exited" in _kinds(client, run.id), 30, interval=0.05)
    finally:
        agent.stop()
        serving.join(30)
    return run


class _Spy:
    """Counts calls of a real method, which still runs."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method, self.calls = method, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.method(*args, **kwargs)


def test_a_served_runs_launch_and_exit_ride_on_the_agents_claim_and_read(
    client, nap_flow_id, make_agent
):
    agent = make_agent(name="rider")
    agent.client.write_trace_events = spy = _Spy(agent.client.write_trace_events)
    run = _serve_one_run(agent, client, nap_flow_id)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    kinds = _kinds(client, run.id)
    for kind in ("process_launched", "process_started", "flow_run_finished", "process_exited"):
        assert kinds.count(kind) == 1, kinds
    assert kinds.index("process_launched") < kinds.index("process_started")
    # Both went with requests the agent makes anyway: a claim, and the read of ended runs.
    assert spy.calls == 0
    assert agent._trace_rides


class _OlderServer:
    """An ASGI wrapper making the app answer as a server from before trace events rode on
    claims and reads, and before a run could be read with its flow: it refuses the
    ``trace`` field (422, in FastAPI's words) and ignores ``with_flow``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.refused = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith(("/work/claim", "/work/runs")):
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            if "trace" in json.loads(body or b"{}"):
                self.refused += 1
                detail = [{"loc": ["body", "trace"], "msg": "Extra inputs are not permitted"}]
                answer = json.dumps({"detail": detail}).encode()
                await send({"type": "http.response.start", "status": 422, "headers": []})
                await send({"type": "http.response.body", "body": answer})
                return

            async def replay() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            await self.app(scope, replay, send)
            return
        if scope["type"] == "http" and b"with_flow" in scope.get("query_string", b""):
            scope = {**scope, "query_string": b""}
        await self.app(scope, receive, send)


@pytest.fixture
def older_server(sqlite_server: tuple[LiveServer, Database]) -> Iterator[tuple[str, _OlderServer]]:
    _, db = sqlite_server
    clear(db)
    older = _OlderServer(create_app(ServerSettings(database_url=db.url), db=db, migrate=False))
    with LiveServer(older) as server:
        yield server.url, older


def test_an_older_server_gets_the_agents_trace_events_on_their_own(older_server, make_agent):
    url, older = older_server
    with Client(url) as client:
        flow_id = register_nap(client)
        agent = make_agent(url, name="older")
        run = _serve_one_run(agent, client, flow_id)
        assert client.get_flow_run(run.id).state.type.value == "Success"
        kinds = _kinds(client, run.id)
    for kind in ("process_launched", "process_started", "process_exited"):
        assert kinds.count(kind) == 1, kinds
    assert older.refused >= 1
    assert not agent._trace_rides


def test_an_older_servers_launch_events_arrive_while_the_run_goes(older_server, make_agent):
    # Once the agent knows the server takes no events on a claim, a pass's launch events
    # go on their own at the next pass, not when some process next exits.
    url, _ = older_server
    with Client(url) as client:
        flow_id = register_nap(client)
        agent = make_agent(url, name="older")
        agent._trace_rides = False  # as it learns at its first refused claim
        serving = threading.Thread(target=agent.serve, daemon=True)
        serving.start()
        try:
            run = client.create_flow_run(flow_id, parameters={"seconds": 6.0})
            wait_until(lambda: "process_launched" in _kinds(client, run.id), 5, interval=0.05)
            assert "process_exited" not in _kinds(client, run.id)
        finally:
            agent.stop()
            agent.stop()  # without waiting out the nap
            serving.join(30)


def test_a_run_and_its_flow_come_apart_from_an_older_server(older_server):
    url, _ = older_server
    with Client(url) as client:
        flow_id = register_nap(client)
        made = client.create_flow_run(flow_id)
        run, flow = client.get_flow_run_with_flow(made.id)
        assert run.id == made.id
        assert flow == client.get_flow_summary(flow_id)
