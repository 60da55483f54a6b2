"""``weir agent start --type docker`` as a real process, against the test engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from weir.cli.main import cli
from weir.registration import register_flow
from weir.storage import Local
from weir.storage.scripts import flows_in_script
from weir.utilities.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]

FLOWS = Path(__file__).resolve().parent / "flows.py"
IMAGE = {"image": "weir-test-base:latest"}


def test_the_docker_agent_runs_a_flow_and_hands_back_on_sigterm(
    client, engine, host_volumes, container_env
):
    flows = flows_in_script(FLOWS)
    ids = {}
    for name in ("greet", "nap"):
        flow = flows[name]
        flow.run_config = IMAGE
        ids[name] = register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS)
    quick = client.create_flow_run(ids["greet"], parameters={"name": "cli"})
    args = [sys.executable, "-m", "weir", "agent", "start", "--type", "docker"]
    args += ["--name", "cli-docker", "--network", "host", "--grace-period", "0.2"]
    for volume in host_volumes:
        args += ["--volume", volume]
    for key, value in container_env.items():
        args += ["--env", f"{key}={value}"]
    env = {**os.environ, "WEIR_API_URL": client.api_url, "DOCKER_HOST": engine.base_url}
    env["COLUMNS"] = "200"
    agent = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        client.wait_for_flow_run(quick.id, poll=0.1, timeout=60)
        slow = client.create_flow_run(ids["nap"], parameters={"seconds": 120})
        wait_until(lambda: client.get_flow_run(slow.id).state.type.value == "Running", 60)
        agent.send_signal(signal.SIGTERM)
        output, _ = agent.communicate(timeout=60)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    assert agent.returncode == 0, output
    assert client.get_flow_run(quick.id).state.type.value == "Success", output
    back = client.get_flow_run(slow.id)
    assert back.state.type.value == "Scheduled", (back.state, output)
    assert "Handed back by agent cli-docker" in (back.state.message or "")
    assert "Agent cli-docker: registered with" in output
    assert "from image weir-test-base:latest" in output
    # Every container it started is gone.
    assert not engine.client.containers.list(
        all=True, filters={"label": "io.weir.agent=cli-docker"}
    )
    assert [a.type for a in client.list_agents()] == ["docker"]


def test_docker_options_are_refused_for_a_local_agent_and_env_must_be_key_value():
    result = CliRunner().invoke(cli, ["agent", "start", "--network", "host"])
    assert result.exit_code == 2 and "--network and --volume are for --type docker" in result.output
    result = CliRunner().invoke(cli, ["agent", "start", "--env", "NOVALUE"])
    assert result.exit_code == 1 and "'NOVALUE' is not KEY=VALUE" in result.output


def test_a_bad_volume_is_refused_with_its_form(engine):
    result = CliRunner().invoke(
        cli,
        ["agent", "start", "--type", "docker", "--volume", "data"],
        env={"DOCKER_HOST": engine.base_url},
    )
    assert result.exit_code == 1 and "HOST_PATH:CONTAINER_PATH" in result.output
