"""``weir up`` (the README's first command) as a real process: server, agent, example run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from weir.client import Client
from weir.exceptions import ClientError
from weir.server.testing import free_port

ROOT = Path(__file__).resolve().parents[1]


def _wait_until_up(client: Client, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "weir up exited early"
        try:
            client.health()
            return
        except ClientError:
            assert time.monotonic() < deadline, "weir up did not start its server in time"
            time.sleep(0.2)


def test_weir_up_runs_the_etl_example_to_success_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIR_")}
    env.update({"WEIR_HOME": str(tmp_path / "home"), "COLUMNS": "300"})
    process = subprocess.Popen(
        [sys.executable, "-m", "weir", "up", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with Client(f"http://127.0.0.1:{port}/api/v1", retries=0) as client:
            _wait_until_up(client, process)
            deadline = time.monotonic() + 30
            while not (runs := client.list_flow_runs(flow_name="etl")):
                assert time.monotonic() < deadline, "weir up started no etl run"
                time.sleep(0.2)
            [run] = runs
            final = client.wait_for_flow_run(run.id, poll=0.2, timeout=60)
            assert final.state.type.value == "Success", final.state
            assert {f.name for f in client.list_flows()} >= {"etl", "branching", "imperative"}
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert f"weir flow-run trace {run.id}" in output
    assert f"weir flow-run logs {run.id} -f" in output
    assert f"claimed run {str(run.id)[:8]}… (etl)" in output
    assert "weir is down." in output
    assert (tmp_path / "home" / "weir.db").is_file()


def test_weir_up_refuses_a_port_in_use(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "WEIR_HOME": str(tmp_path)}
        env.pop("WEIR_DATABASE_URL", None)
        result = subprocess.run(
            [sys.executable, "-m", "weir", "up", "--port", str(port), "--no-examples"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is taken" in result.stderr


def test_a_port_a_stopped_server_left_in_time_wait_counts_as_free():
    """`weir up` restarts at once: a connection the last server closed (TIME_WAIT on
    its port) does not make the port look taken."""
    import socket

    from weir.cli.up import _check_port_free

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the server side closes first: its end waits in TIME_WAIT
    listener.close()
    client.close()
    with socket.socket() as plain:  # what the check did before: refused
        try:
            plain.bind(("127.0.0.1", port))
            lingering = False
        except OSError:
            lingering = True
    assert lingering, "the test did not leave a connection in TIME_WAIT on the port"
    _check_port_free(port)
