"""Oversized bodies against a real server process: refused without being read or held.

``weir server start --auth`` runs as its own process; a body of 200 MB is
announced (and streamed) without a key, and with a valid key. Each is refused
(401, 413) as soon as the server sees its head or its first 32 MiB, the
server's memory stays about where it was, and ``/health`` goes on answering.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from weir.server.testing import chunked, free_port, send_raw

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MB = 1 << 20
BODY = 200 * MB
#: How much the server's resident memory may grow over the whole test (generous:
#: allocator noise, a few requests' buffers; the bodies alone are 1.2 GB).
GROWTH = 100 * MB


def _weir(*args: str, env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "weir", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, str]]:
    """(port, pid, admin key) of a ``weir server start --auth`` process on a new database."""
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIR_")}
    env["WEIR_HOME"] = str(home)
    created = _weir("server", "api-key", "create", "faults", "--role", "admin", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    log = (Path(home) / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "weir", "server", "start", "--auth", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, (Path(home) / "server.log").read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield port, process.pid, key
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _megabytes(n: int) -> Iterator[bytes]:
    block = b" " * MB
    for _ in range(n):
        yield block


def _healthy(port: int) -> None:
    health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"


def test_oversized_bodies_are_refused_without_being_read(server: tuple[int, int, str]) -> None:
    port, pid, key = server
    rss = psutil.Process(pid).memory_info().rss
    json_type = {"content-type": "application/json"}
    announced = {**json_type, "content-length": str(BODY)}
    streamed = {**json_type, "transfer-encoding": "chunked"}
    bearer = {"authorization": f"Bearer {key}"}
    cases = [
        # (headers, body, expected status, words of the answer)
        (announced, _megabytes(200), 401, "API key"),
        (streamed, chunked(_megabytes(200)), 401, "API key"),
        ({**announced, **bearer}, _megabytes(200), 413, "WEIR_SERVER_MAX_BODY_BYTES"),
        ({**streamed, **bearer}, chunked(_megabytes(200)), 413, "WEIR_SERVER_MAX_BODY_BYTES"),
    ]
    for path in ("/api/v1/task_runs/batch", "/api/v1/flows"):
        for headers, body, status, words in cases:
            answer, detail, sent = send_raw(port, "POST", path, headers, body)
            assert (answer, path) == (status, path), detail
            assert words in detail["detail"]
            assert sent < BODY  # answered before the body was all there
            _healthy(port)
    grown = psutil.Process(pid).memory_info().rss - rss
    assert grown < GROWTH, f"the server grew by {grown / MB:.0f} MB"


def test_a_body_under_the_limit_is_still_served(server: tuple[int, int, str]) -> None:
    port, _pid, key = server
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/logs/batch",
        json=[],
        headers={"authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201
    _healthy(port)
