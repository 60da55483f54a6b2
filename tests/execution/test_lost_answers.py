"""A log or trace batch whose answer is lost after the server committed it is stored once.

Between the reporter and a live server sits a real TCP proxy that forwards every
byte, except that it closes the connection instead of relaying the first answer
to each batch endpoint: the server has written the batch, the reporter sees a
broken connection and sends the batch again.
"""

from __future__ import annotations

import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from weir.client import Client
from weir.execution.reporter import ApiReporter
from weir.server.testing import LiveServer

from .conftest import ONE_TASK, Harness

_REQUEST_LINE = re.compile(rb"POST /api/v1/(\S+) HTTP/1\.1\r\n")


class AnswerDroppingProxy:
    """Forwards loopback TCP to ``upstream_port``; drops one answer to each of ``paths``:
    the first after ``skip`` answered ones."""

    def __init__(self, upstream_port: int, paths: set[str], skip: int = 0) -> None:
        self.upstream_port = upstream_port
        self.undropped = set(paths)
        self.skip = skip
        self.dropped: list[str] = []
        self.posts: Counter[str] = Counter()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def __enter__(self) -> AnswerDroppingProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                _close(s)

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._sockets += [downstream, upstream]
            # The path whose answer this connection must not deliver, once it is asked.
            drop: dict[str, str] = {}
            threading.Thread(
                target=self._requests, args=(downstream, upstream, drop), daemon=True
            ).start()
            threading.Thread(
                target=self._answers, args=(upstream, downstream, drop), daemon=True
            ).start()

    def _requests(self, src: socket.socket, dst: socket.socket, drop: dict[str, str]) -> None:
        while data := _recv(src):
            # The client waits for each answer before it asks again on a connection,
            # so an answer that follows this request is this request's answer.
            for match in _REQUEST_LINE.finditer(data):
                path = match.group(1).decode()
                with self._lock:
                    self.posts[path] += 1
                    if path in self.undropped and self.posts[path] > self.skip:
                        self.undropped.discard(path)
                        drop["path"] = path
            try:
                dst.sendall(data)
            except OSError:
                break
        _close(src, dst)

    def _answers(self, src: socket.socket, dst: socket.socket, drop: dict[str, str]) -> None:
        while data := _recv(src):
            if "path" in drop:
                # The server answered, so it has committed; the client never hears it.
                with self._lock:
                    self.dropped.append(drop["path"])
                break
            try:
                dst.sendall(data)
            except OSError:
                break
        _close(src, dst)


def _recv(s: socket.socket) -> bytes:
    try:
        return s.recv(65536)
    except OSError:
        return b""


def _close(*sockets: socket.socket) -> None:
    for s in sockets:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


BATCHES = {"logs/batch", "trace/batch"}


@pytest.fixture
def proxy(server: LiveServer) -> Iterator[AnswerDroppingProxy]:
    with AnswerDroppingProxy(server.port, BATCHES) as p:
        yield p


def test_the_reporter_s_batches_are_stored_once_when_their_answers_are_lost(
    harness: Harness, client: Client, proxy: AnswerDroppingProxy
) -> None:
    run = client.create_flow_run(flow_id=harness.register(ONE_TASK)["one"])
    with Client(proxy.url, retries=2, backoff=0.05) as through_proxy:
        reporter = ApiReporter(through_proxy, run.id, run.version, interval=60)
        try:
            for n in range(300):
                reporter.log("a-1", None, _record(n))
            for n in range(20):
                reporter.trace("retry_scheduled", "a-1", None, {"n": n}, ts=1e9 + n)
            reporter.flush()
        finally:
            reporter.close()
    assert sorted(proxy.dropped) == sorted(BATCHES)
    assert proxy.posts["logs/batch"] >= 2 and proxy.posts["trace/batch"] >= 2
    messages = [line.message for line in client.get_logs(run.id, limit=10_000).logs]
    assert messages == [f"line {n}" for n in range(300)]
    events = [e.data["n"] for e in client.get_trace(run.id) if e.kind == "retry_scheduled"]
    assert events == list(range(20))


LOGGING_CHAIN = """
import logging
import time
from weir import Flow, task

@task
def step(x):
    logging.getLogger("weir.task_run").info("step %d", x)
    if x == 19:
        # The sender's round (every 0.2 s) sends the lines so far as a batch of their
        # own meanwhile; the rest would go with the run's final state.
        time.sleep(0.6)
    return x + 1

with Flow("chain") as flow:
    x = step(0)
    for _ in range(19):
        x = step(x)
"""


def test_a_run_whose_first_log_answer_is_lost_holds_each_line_once(
    harness: Harness, client: Client, proxy: AnswerDroppingProxy
) -> None:
    run = client.create_flow_run(flow_id=harness.register(LOGGING_CHAIN)["chain"])
    harness.execute(run.id, WEIR_API_URL=proxy.url)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    assert "logs/batch" in proxy.dropped
    lines = Counter(line.message for line in client.get_logs(run.id, limit=10_000).logs)
    steps = {message: count for message, count in lines.items() if message.startswith("step")}
    assert steps == {f"step {n}": 1 for n in range(20)}
    assert all(count == 1 for count in lines.values()), lines


def _record(n: int) -> dict[str, Any]:
    return {"timestamp": 1e9 + n, "level": 20, "name": "weir.task_run", "message": f"line {n}"}


SLOW_END = """
import time
from weir import Flow, task

@task
def step(x):
    return x + 1

@task
def last(x):
    time.sleep(0.6)  # the sender sends the other states meanwhile (every 0.2 s)
    return x

with Flow("chain") as flow:
    x = step(0)
    for _ in range(18):
        x = step(x)
    last(x)
"""


def test_task_run_states_whose_answer_is_lost_are_applied_once(
    harness: Harness, client: Client, server: LiveServer
) -> None:
    run = client.create_flow_run(flow_id=harness.register(SLOW_END)["chain"])
    with AnswerDroppingProxy(server.port, {"task_runs/batch?wait=false"}) as proxy:
        harness.execute(run.id, WEIR_API_URL=proxy.url)
    assert proxy.dropped == ["task_runs/batch?wait=false"]
    assert client.get_flow_run(run.id).state.type.value == "Success"
    task_runs = client.list_task_runs(run.id)
    assert len(task_runs) == 20
    for task_run in task_runs:
        history = [s.state.type.value for s in client.task_run_states(task_run.id)]
        assert history == ["Running", "Success"], (task_run.task_slug, history)
    # Nothing was refused either (a refusal would be a warning in the run's logs).
    assert not [line for line in client.get_logs(run.id).logs if line.name == "weir.server"]


def test_reports_carried_by_a_state_write_whose_answer_is_lost_are_stored_once(
    harness: Harness, client: Client, server: LiveServer
) -> None:
    run = client.create_flow_run(flow_id=harness.register(LOGGING_CHAIN)["chain"])
    states = f"flow_runs/{run.id}/state"
    # The second state write's answer is lost: Success's, which carries the run's last
    # task runs, log lines and trace events; they are sent again with it.
    with AnswerDroppingProxy(server.port, {states}, skip=1) as proxy:
        harness.execute(run.id, WEIR_API_URL=proxy.url)
    assert proxy.dropped == [states]
    assert proxy.posts[states] >= 3  # Running, Success (answer lost), Success again
    assert client.get_flow_run(run.id).state.type.value == "Success"
    lines = Counter(line.message for line in client.get_logs(run.id, limit=10_000).logs)
    assert {m: c for m, c in lines.items() if m.startswith("step")} == {
        f"step {n}": 1 for n in range(20)
    }
    kinds = Counter(e.kind for e in client.get_trace(run.id))
    assert kinds["flow_run_started"] == kinds["executor_started"] == 1
    for task_run in client.list_task_runs(run.id):
        history = [s.state.type.value for s in client.task_run_states(task_run.id)]
        assert history == ["Running", "Success"], (task_run.task_slug, history)
