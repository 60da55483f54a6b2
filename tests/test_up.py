"""``weir up`` (the README's first command) as a real process: server, agent, example run."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from weir.client import Client
from weir.exceptions import ClientError
from weir.server.testing import free_port
from weir.utilities.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]

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


def _kept_key(home: Path, api_url: str) -> str:
    """The admin key ``weir up`` keeps for its server, checking that only its user can read it."""
    keys = home / "local_keys.json"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    return json.loads(keys.read_text())[api_url]  # type: ignore[no-any-return]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIR_")}
    env.update({"WEIR_HOME": str(home), "COLUMNS": "300"})
    return env


def _up(port: int, env: dict[str, str], *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "weir", "up", "--port", str(port), *flags],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> str:
    """Ctrl-C, and what it printed (killed if it does not stop)."""
    try:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    return output


def test_weir_up_runs_the_etl_example_to_success_and_stops_cleanly(tmp_path):
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api/v1"
    env = _env(tmp_path / "home")
    process = _up(port, env)
    try:
        with Client(api_url, retries=0) as anonymous:
            _wait_until_up(anonymous, process)
            # Private by default: another user (without the key file) is refused.
            with pytest.raises(ClientError) as refused:
                anonymous.list_flows()
            assert refused.value.status_code == 401
        key = _kept_key(tmp_path / "home", api_url)
        assert stat.S_IMODE((tmp_path / "home" / "weir.db").stat().st_mode) == 0o600
        with Client(api_url, key, retries=0) as client:
            [run] = wait_until(
                lambda: client.list_flow_runs(flow_name="etl"), 30, "weir up started no etl run"
            )
            final = client.wait_for_flow_run(run.id, poll=0.2, timeout=60)
            assert final.state.type.value == "Success", final.state
            assert {f.name for f in client.list_flows()} >= {"etl", "branching", "imperative"}
        # This user's CLI finds the key on its own (same WEIR_HOME, the local server's URL).
        trace = subprocess.run(
            [sys.executable, "-m", "weir", "flow-run", "trace", str(run.id)],
            env={**env, "WEIR_API_URL": api_url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert trace.returncode == 0, trace.stderr
    finally:
        output = _stop(process)
    assert f"weir flow-run trace {run.id}" in output
    assert f"weir flow-run logs {run.id} -f" in output
    assert f"claimed run {str(run.id)[:8]}… (etl)" in output
    assert "weir is down." in output
    assert f"http://127.0.0.1:{port}/login#key={key}" in output  # logs the browser in
    assert (tmp_path / "home" / "weir.db").is_file()


def test_weir_up_keeps_its_key_across_restarts_and_no_auth_serves_openly(tmp_path):
    home = tmp_path / "home"
    env = _env(home)
    keys = []
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api/v1"
    for flags in ([], [], ["--no-auth"]):
        process = _up(port, env, "--no-examples", *flags)
        try:
            with Client(api_url, retries=0) as anonymous:
                _wait_until_up(anonymous, process)
                if not flags:
                    keys.append(_kept_key(home, api_url))
                # --no-auth: open to anyone, as before.
                with Client(api_url, None if flags else keys[-1], retries=0) as client:
                    assert client.list_flows() == []
                    # Its agent is up (and Ctrl-C is its to handle) once it registered.
                    wait_until(client.list_agents, 30, "weir up started no agent")
        finally:
            output = _stop(process)
    assert "auth:     off" in output
    # The same server (its database, its URL) keeps its key: the browser stays logged in.
    assert len(keys) == 2 and keys[0] == keys[1]


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
