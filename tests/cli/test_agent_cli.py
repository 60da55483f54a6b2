"""``weir agent start`` as a real process: it runs flow runs, and SIGTERM hands them back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from weir.cli.main import cli
from weir.client import Client
from weir.server.app import create_app
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, temporary_database
from weir.utilities.waiting import wait_until

pytestmark = pytest.mark.integration

FLOWS = Path(__file__).resolve().parents[1] / "agent" / "flows.py"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with temporary_database("sqlite") as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as live:
            yield live


def _register_nap(client: Client) -> str:
    from weir.registration import register_flow
    from weir.storage import Local
    from weir.storage.scripts import flows_in_script

    flow = flows_in_script(FLOWS)["nap"]
    return str(register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_claiming_and_hands_back_runs_after_the_grace_period(server, tmp_path):
    env = {**os.environ, "WEIR_API_URL": server.url, "WEIR_HOME": str(tmp_path), "COLUMNS": "200"}
    with Client(server.url) as client:
        flow_id = _register_nap(client)
        quick = client.create_flow_run(flow_id, parameters={"seconds": 0.0})
        agent = subprocess.Popen(
            [sys.executable, "-m", "weir", "agent", "start", "--name", "cli-agent"]
            + ["--grace-period", "0.5", "--max-runs", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            client.wait_for_flow_run(quick.id, poll=0.1, timeout=30)
            slow = client.create_flow_run(flow_id, parameters={"seconds": 60})
            wait_until(lambda: client.get_flow_run(slow.id).state.type.value == "Running")
            [launched] = [e for e in client.get_trace(slow.id) if e.kind == "process_launched"]
            agent.send_signal(signal.SIGTERM)
            output, _ = agent.communicate(timeout=30)
        finally:
            if agent.poll() is None:
                agent.kill()
        assert agent.returncode == 0, output
        assert client.get_flow_run(quick.id).state.type.value == "Success"
        back = client.get_flow_run(slow.id)
        assert back.state.type.value == "Scheduled", back.state
        assert "Handed back by agent cli-agent" in (back.state.message or "")
        assert not _alive(launched.data["pid"])
    assert "Agent cli-agent: registered with" in output
    assert f"claimed run {str(quick.id)[:8]}… (nap)" in output
    assert "got SIGTERM" in output and "handed back" in output


def test_max_runs_must_be_at_least_one():
    result = CliRunner().invoke(cli, ["agent", "start", "--max-runs", "0"])
    assert result.exit_code == 2 and "--max-runs" in result.output


def test_start_method_is_fork_or_spawn_and_for_local_agents_only():
    result = CliRunner().invoke(cli, ["agent", "start", "--start-method", "forkserver"])
    assert result.exit_code == 2 and "--start-method" in result.output
    args = ["agent", "start", "--type", "docker", "--start-method", "fork"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "--start-method is for --type local" in result.output


def test_preload_is_for_local_agents_and_takes_module_names():
    args = ["agent", "start", "--type", "docker", "--preload", "pandas"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "--preload is for --type local" in result.output
    result = CliRunner().invoke(cli, ["agent", "start", "--preload", "pandas==2.2"])
    assert result.exit_code == 1 and "'pandas==2.2' is not a module name" in result.output
