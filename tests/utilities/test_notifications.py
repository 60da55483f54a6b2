"""Prefect 1's notification handlers, posting to a real HTTP endpoint on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from weir import Flow, context, task
from weir.engine.state import Failed, Running, Success
from weir.utilities.notifications import (
    callback_factory,
    slack_message_formatter,
    slack_notifier,
)


class _Hook:
    """A webhook endpoint that keeps what it was sent and answers ``status``."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hook() -> Iterator[_Hook]:
    endpoint = _Hook()
    yield endpoint
    endpoint.server.shutdown()


def test_callback_factory_calls_back_when_the_check_holds() -> None:
    seen: list[str] = []
    handler = callback_factory(
        lambda obj, state: seen.append(type(state).__name__), lambda s: s.is_successful()
    )

    @task(state_handlers=[handler])
    def ok() -> int:
        return 1

    with Flow("cb", state_handlers=[handler]) as flow:
        ok()
    assert flow.run().is_successful()
    assert seen == ["Success", "Success"]  # the task's, then the flow's


def test_slack_notifier_posts_only_the_states_asked_for(hook: _Hook) -> None:
    @task(state_handlers=[slack_notifier(only_states=[Failed])])
    def boom() -> None:
        raise ValueError("disk full")

    @task(state_handlers=[slack_notifier(only_states=[Failed])])
    def fine() -> int:
        return 1

    with Flow("notify") as flow:
        boom()
        fine()
    flow.run(context={"secrets": {"SLACK_WEBHOOK_URL": hook.url}})
    assert len(hook.bodies) == 1
    attachment = hook.bodies[0]["attachments"][0]
    assert attachment["title"] == "Failed"
    assert attachment["text"] == "boom is now in a Failed state"
    assert "disk full" in attachment["fields"][0]["value"]


def test_slack_notifier_as_a_plain_handler_reports_every_state(hook: _Hook) -> None:
    @task(state_handlers=[slack_notifier])
    def ok() -> int:
        return 1

    with Flow("plain") as flow:
        ok()
    flow.run(context={"secrets": {"SLACK_WEBHOOK_URL": hook.url}})
    assert [b["attachments"][0]["title"] for b in hook.bodies] == ["Running", "Success"]


def test_slack_notifier_ignores_states(hook: _Hook) -> None:
    @task(state_handlers=[slack_notifier(ignore_states=[Running], webhook_secret="TEAM_HOOK")])
    def ok() -> int:
        return 1

    with Flow("ignore") as flow:
        ok()
    flow.run(context={"secrets": {"TEAM_HOOK": hook.url}})
    assert [b["attachments"][0]["title"] for b in hook.bodies] == ["Success"]


def test_a_failed_notification_does_not_fail_the_task(hook: _Hook, caplog) -> None:
    hook.status = 500

    @task(state_handlers=[slack_notifier])
    def ok() -> int:
        return 1

    with Flow("down") as flow:
        out = ok()
    state = flow.run(context={"secrets": {"SLACK_WEBHOOK_URL": hook.url}})
    assert state.result[out].is_successful()
    assert "Slack notification for ok failed" in caplog.text


def test_a_missing_webhook_secret_is_logged(caplog) -> None:
    @task(state_handlers=[slack_notifier(webhook_secret="NO_SUCH_HOOK")])
    def ok() -> int:
        return 1

    with Flow("nosecret") as flow:
        out = ok()
    assert flow.run().result[out].is_successful()
    assert "NO_SUCH_HOOK" in caplog.text


def test_the_message_links_to_the_run_page_under_a_server(monkeypatch) -> None:
    monkeypatch.setenv("WEIR_API_URL", "http://weir.example:4200/api/v1")

    class Obj:
        name = "load"

    with context(flow_run_id="abc"):
        body = slack_message_formatter(Obj(), Success("done"))
    assert body["attachments"][0]["title_link"] == "http://weir.example:4200/flow-runs/abc"
    assert "title_link" not in slack_message_formatter(Obj(), Success("done"))["attachments"][0]
