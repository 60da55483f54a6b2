"""The server's CLI commands, against a real server on loopback (SQLite)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time

import httpx
import pytest
from click.testing import CliRunner

from weir.cli.main import cli
from weir.client import Client
from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, free_port, temporary_database

FLOW = {
    "name": "etl",
    "tasks": [],
    "edges": [],
    "reference_tasks": [],
    "schedule": None,
    "parameters": [{"name": "n", "slug": "n", "default": 3, "required": False}],
}


@pytest.fixture(scope="module")
def server():
    with temporary_database("sqlite") as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as live:
            yield live


@pytest.fixture
def invoke(server):
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(
            cli, [*args], env={"WEIR_API_URL": server.url, "COLUMNS": "200"}, catch_exceptions=False
        )

    return run


def _drive(url: str, final: str) -> threading.Thread:
    """Play an agent and runner: claim the run, log a line, end it in ``final``."""

    def go() -> None:
        with Client(url) as c:
            [run] = c.claim(wait=20)
            started = c.set_flow_run_state(run.id, {"type": "Running"}, run.version)
            c.write_logs(
                [{"flow_run_id": str(run.id), "timestamp": time.time(), "message": "working hard"}]
            )
            c.set_flow_run_state(run.id, {"type": final, "message": "done"}, started.version)

    thread = threading.Thread(target=go)
    thread.start()
    return thread


def test_flow_ls_run_and_flow_run_commands(server, invoke):
    with Client(server.url) as c:
        c.register_flow(FLOW)
    listed = invoke("flow", "ls")
    assert listed.exit_code == 0 and "etl" in listed.output
    created = invoke("run", "etl", "--param", "n=5")
    assert created.exit_code == 0, created.output
    run_id = created.output.split("(")[-1].split(")")[0]
    with Client(server.url) as c:
        assert c.get_flow_run(run_id).parameters == {"n": 5}
    assert run_id in invoke("flow-run", "ls").output
    shown = invoke("flow-run", "show", run_id)
    assert "Scheduled" in shown.output and "'n': 5" in shown.output
    assert "Cancelled" in invoke("flow-run", "cancel", run_id).output
    assert "cancel_requested" in invoke("flow-run", "trace", run_id).output
    missing = invoke("flow-run", "show", "00000000-0000-0000-0000-000000000000")
    assert missing.exit_code == 1 and "no flow run" in missing.output


def test_bad_parameter_is_reported_without_traceback(server, invoke):
    with Client(server.url) as c:
        c.register_flow(FLOW)
    result = invoke("run", "etl", "--param", "bogus=1")
    assert result.exit_code == 1
    assert "no parameter 'bogus'" in result.output


@pytest.mark.parametrize(("final", "code"), [("Success", 0), ("Failed", 1)])
def test_run_watch_follows_the_run_and_exits_by_its_end(server, invoke, final, code):
    with Client(server.url) as c:
        c.register_flow(FLOW)
    driver = _drive(server.url, final)
    result = invoke("run", "etl", "--watch")
    driver.join(30)
    assert result.exit_code == code, result.output
    assert "Running" in result.output and final in result.output
    assert "working hard" in result.output


def test_flow_run_logs_follow(server, invoke):
    with Client(server.url) as c:
        flow = c.register_flow(FLOW).flow
        run = c.create_flow_run(flow.id)
    driver = _drive(server.url, "Success")
    result = invoke("flow-run", "logs", "-f", str(run.id))
    driver.join(30)
    assert "working hard" in result.output


def test_api_key_create_ls_revoke(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    created = runner.invoke(
        cli, ["server", "api-key", "create", "ci", "--role", "read_only", "--database-url", url]
    )
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    prefix = key.split("_")[1]
    listed = runner.invoke(cli, ["server", "api-key", "ls", "--database-url", url])
    assert prefix in listed.output and key not in listed.output
    revoked = runner.invoke(cli, ["server", "api-key", "revoke", prefix, "--database-url", url])
    assert revoked.exit_code == 0
    unknown = runner.invoke(cli, ["server", "api-key", "revoke", "nope", "--database-url", url])
    assert unknown.exit_code == 1 and "no API key" in unknown.output


def test_start_refuses_a_public_address_without_auth():
    result = CliRunner().invoke(cli, ["server", "start", "--host", "0.0.0.0", "--no-auth"])
    assert result.exit_code == 2
    assert "--auth" in result.output and "api-key create" in result.output


def test_server_start_serves_health_on_a_new_database(tmp_path):
    port = free_port()
    env = {**os.environ, "WEIR_HOME": str(tmp_path), "WEIR_DATABASE_URL": ""}
    env["WEIR_SERVER_ALLOWED_HOSTS"] = "ci.test"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from weir.cli.main import cli; cli()",
            "server",
            "start",
            "--port",
            str(port),
            "--allowed-host",
            "weir.test",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert health.json()["status"] == "ok"
        assert stat.S_IMODE((tmp_path / "weir.db").stat().st_mode) == 0o600
        # Only the host names it was given (and loopback's) are answered.
        url = f"http://127.0.0.1:{port}/api/v1/health"
        for name, status in (("weir.test", 200), ("ci.test:80", 200), ("evil.test", 400)):
            assert httpx.get(url, headers={"host": name}).status_code == status, name
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)
