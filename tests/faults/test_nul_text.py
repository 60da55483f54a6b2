# ruff: noqa: F811
"""A run that reports NUL ends in its own state, promptly, with its report whole.

PostgreSQL cannot store NUL in text (nor ``\\u0000`` in JSONB): the server cleans
it (U+FFFD). A server that fails on it anyway (500, as one before the cleaning
did) must not hold the run: the reporter stops retrying, cleans the batch, sends
it again, and writes the run's final state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

# The live server, its database and the harness of tests/execution, as fixtures here
# (their names are the parameters of the tests below, hence F811).
from tests.execution.conftest import (  # noqa: F401
    Harness,
    client,
    database,
    harness,
    server,
)

from weir.client import Client
from weir.server.app import create_app
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, clear

pytestmark = [pytest.mark.slow, pytest.mark.integration]

NUL_FLOWS = """
import logging
from weir import Flow, task
from weir.engine.signals import FAIL


@task
def speaks():
    logging.getLogger("weir.task_run").info("before\\x00after")
    return "result\\x00text"

@task
def fails():
    raise FAIL("failed\\x00here")

@task
def plain():
    logging.getLogger("weir.task_run").info("before after")
    return "result text"

with Flow("nul") as nul:
    speaks()

with Flow("nul-fail") as nul_fail:
    fails()

with Flow("plain") as plain_flow:
    plain()
"""

#: A run's whole life here takes seconds; the bug held it ten minutes.
PROMPTLY = 60


def _messages(client: Client, run_id: Any) -> list[str]:
    return [line.message for line in client.get_logs(run_id, limit=200).logs]


def _kinds(client: Client, run_id: Any) -> list[str]:
    return sorted(e.kind for e in client.get_trace(run_id))


def _run(harness: Harness, client: Client, flow_id: Any) -> Any:
    run = client.create_flow_run(flow_id=flow_id)
    harness.execute(run.id, timeout=PROMPTLY)
    return client.get_flow_run(run.id)


def test_a_run_reporting_nul_succeeds_with_its_lines_and_trace(
    harness: Harness, client: Client, database: Database
) -> None:
    flows = harness.register(NUL_FLOWS)
    final = _run(harness, client, flows["nul"])
    assert final.state.type.value == "Success"
    nul = "\x00" if database.is_sqlite else "\ufffd"
    assert f"before{nul}after" in _messages(client, final.id)
    [task_run] = client.list_task_runs(final.id)
    assert task_run.state.type.value == "Success"
    # Every trace event a run of the same shape without NUL has.
    control = _run(harness, client, flows["plain"])
    assert _kinds(client, final.id) == _kinds(client, control.id)


def test_a_fail_signal_with_nul_fails_the_run_with_its_message(
    harness: Harness, client: Client, database: Database
) -> None:
    final = _run(harness, client, harness.register(NUL_FLOWS)["nul-fail"])
    assert final.state.type.value == "Failed"
    assert "crashed" not in (final.state.message or "")
    [task_run] = client.list_task_runs(final.id)
    nul = "\x00" if database.is_sqlite else "\ufffd"
    assert task_run.state.message == f"failed{nul}here"


class FailsOnNul:
    """A server that fails (500) on every request body holding a NUL, as one did."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.failed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if b"\\u0000" in body:
            self.failed += 1
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            return
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@pytest.fixture
def failing(database: Database) -> Iterator[tuple[LiveServer, FailsOnNul]]:
    clear(database)
    app = FailsOnNul(create_app(ServerSettings(database_url=database.url), db=database))
    with LiveServer(app) as live:
        yield live, app


def test_a_server_failing_on_nul_does_not_hold_the_run(failing, tmp_path) -> None:
    live, app = failing
    with Client(live.url) as client:
        harness = Harness(client, tmp_path, tmp_path / "home")
        final = _run(harness, client, harness.register(NUL_FLOWS)["nul"])
        assert app.failed  # the reporter met the failure, and went on
        assert final.state.type.value == "Success"
        # Cleaned by the reporter, then stored.
        assert "before\ufffdafter" in _messages(client, final.id)
        assert json.dumps(client.list_task_runs(final.id)[0].state.type.value) == '"Success"'
