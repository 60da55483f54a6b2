"""The webhook state handler POSTs to a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from weir import Flow, task
from weir.engine.state import Failed, Success
from weir.notifications import webhook


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


def test_task_and_flow_failures_are_posted(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    alert = webhook(url, on=(Failed,))

    @task(state_handlers=[alert])
    def breaks() -> None:
        raise ValueError("disk full")

    @task(state_handlers=[alert])
    def fine() -> int:
        return 1

    with Flow("alerts", state_handlers=[alert]) as flow:
        breaks()
        fine()
    state = flow.run()
    assert state.is_failed()
    kinds = sorted((r["kind"], r["state"]) for r in received)
    assert kinds == [("flow_run", "Failed"), ("task_run", "Failed")]
    task_body = next(r for r in received if r["kind"] == "task_run")
    assert task_body["task_name"] == "breaks" and task_body["flow_name"] == "alerts"
    assert "disk full" in task_body["message"]
    assert task_body["flow_run_id"]


def test_only_chosen_states_are_posted(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver

    @task(state_handlers=[webhook(url, on=(Success,))])
    def one() -> int:
        return 1

    with Flow("ok") as flow:
        one()
    flow.run()
    assert [r["state"] for r in received] == ["Success"]


def test_an_unreachable_webhook_never_fails_the_run() -> None:
    @task(state_handlers=[webhook("http://127.0.0.1:9/nowhere", timeout=0.5)])
    def breaks() -> None:
        raise ValueError("x")

    with Flow("quiet") as flow:
        t = breaks()
    state = flow.run()
    assert state.result[t].is_failed()


def test_a_bad_url_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="http"):
        webhook("ftp://example.org")
