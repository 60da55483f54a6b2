"""The docker agent against a real server and a real Docker-API engine (podman's service)."""

from __future__ import annotations

from pathlib import Path

import pytest

from weir.agent.docker import DockerAgent, RunContainer
from weir.client import Client
from weir.exceptions import ConfigurationError
from weir.registration import register_flow
from weir.storage import Local
from weir.storage.scripts import flows_in_script

pytestmark = [pytest.mark.slow, pytest.mark.integration]

FLOWS = Path(__file__).resolve().parent / "flows.py"


def _register(client: Client, name: str, **flow_options: object) -> str:
    flow = flows_in_script(FLOWS)[name]
    for key, value in flow_options.items():
        setattr(flow, key, value)
    return str(register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS))


def test_a_run_goes_to_success_in_a_container_with_its_logs_in_the_server(
    client, make_agent, drive, engine
):
    flow_id = _register(client, "greet", run_config={"image": "weir-test-base:latest"})
    run = client.create_flow_run(flow_id, parameters={"name": "docker"})
    lines: list[str] = []
    agent = make_agent(name="d1", echo=lines.append)
    [launched] = agent.run_once(wait=5)
    container = launched.process
    assert isinstance(container, RunContainer)
    drive(agent, lambda: not agent.running)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    messages = [log.message for log in client.get_logs(run.id).logs]
    assert any("hello docker from" in m for m in messages), messages
    kinds = [e.kind for e in client.get_trace(run.id)]
    for kind in ("claimed", "process_launched", "process_started", "process_exited"):
        assert kind in kinds, kinds
    assert any(
        f"container {container.id[:12]} from image weir-test-base:latest" in line for line in lines
    )
    # The finished container is gone from the engine.
    assert not engine.client.containers.list(all=True, filters={"id": container.id})
    assert client.list_agents()[0].type == "docker"


def test_a_container_that_exits_non_zero_fails_its_run_with_the_reason(client, make_agent, drive):
    flow_id = _register(client, "crash", run_config={"image": "weir-test-base:latest"})
    run = client.create_flow_run(flow_id, parameters={"code": 3})
    agent = make_agent(process_retries=0)
    agent.run_once(wait=5)
    drive(agent, lambda: not agent.running)
    state = client.get_flow_run(run.id).state
    assert state.type.value == "Failed"
    assert "exited with code 3" in state.message
    assert "about to exit with code 3" in state.message


def test_a_killed_container_fails_its_run_as_killed_with_its_last_lines(
    client, make_agent, drive, engine
):
    flow_id = _register(client, "nap", run_config={"image": "weir-test-base:latest"})
    run = client.create_flow_run(flow_id, parameters={"seconds": 120})
    agent = make_agent(process_retries=0)
    [launched] = agent.run_once(wait=5)
    drive(agent, lambda: client.get_flow_run(run.id).state.type.value == "Running")
    engine.client.containers.get(launched.process.id).kill()
    drive(agent, lambda: not agent.running)
    state = client.get_flow_run(run.id).state
    assert state.type.value == "Failed"
    assert "exited with code -9 (SIGKILL)" in state.message
    assert "napping for 120" in state.message
    assert "It crashed 1 times; giving up." in state.message


def test_the_run_config_env_reaches_the_container_and_the_agent_env_too(client, make_agent, drive):
    from weir import Flow

    flow = Flow("env-echo", run_config={"image": "weir-test-base:latest", "env": {"MARK": "run"}})
    flow_id = str(register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS))
    run = client.create_flow_run(flow_id)
    code = (
        "import os; print('|'.join(os.environ.get(k, '-') for k in "
        "('MARK', 'AGENT_MARK', 'WEIR_CHECKPOINTING', 'WEIR_API_URL'))); raise SystemExit(5)"
    )
    agent = make_agent(process_retries=0, command_factory=lambda r: ["python", "-c", code])
    agent.env["AGENT_MARK"] = "agent"
    agent.run_once(wait=5)
    drive(agent, lambda: not agent.running)
    state = client.get_flow_run(run.id).state
    # The stand-in command never reports an end, so the agent fails the run with its output.
    assert state.type.value == "Failed"
    assert f"run|agent|true|{client.api_url}" in state.message
    assert "exited with code 5" in state.message


def test_the_failure_message_holds_the_containers_last_fifty_lines(client, make_agent, drive):
    from weir import Flow

    flow = Flow("chatty", run_config={"image": "weir-test-base:latest"})
    flow_id = str(register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS))
    code = "for i in range(120): print(f'line {i:03d}')\nraise SystemExit(7)"
    agent = make_agent(process_retries=0, command_factory=lambda r: ["python", "-c", code])
    for _ in range(3):  # a few times: an engine's log may lag or lose its last line
        run = client.create_flow_run(flow_id)
        agent.run_once(wait=5)
        drive(agent, lambda: not agent.running)
        message = client.get_flow_run(run.id).state.message
        shown = [line for line in message.splitlines() if line.startswith("line ")]
        assert shown == [f"line {i:03d}" for i in range(70, 120)], message


def test_a_flow_without_an_image_fails_with_a_message_naming_the_fix(client, make_agent, drive):
    flow_id = _register(client, "greet", run_config=None)
    run = client.create_flow_run(flow_id)
    agent = make_agent()
    assert agent.run_once(wait=5) == []
    state = client.get_flow_run(run.id).state
    assert state.type.value == "Failed"
    assert "names no image" in state.message and "run_config" in state.message


def test_a_missing_image_fails_the_run_with_the_engine_reason(client, make_agent, drive):
    flow_id = _register(client, "greet", run_config={"image": "weir-test-absent:1"})
    run = client.create_flow_run(flow_id)
    agent = make_agent()
    assert agent.run_once(wait=5) == []
    state = client.get_flow_run(run.id).state
    assert state.type.value == "Failed"
    assert (
        "the image weir-test-absent:1 is not in the engine and could not be pulled" in state.message
    )


def test_an_unreachable_engine_is_named_with_how_to_start_one(api_url, tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        DockerAgent(api_url=api_url, base_url=f"unix://{tmp_path}/nothing.sock")
    message = str(caught.value)
    assert "nothing.sock" in message and "DOCKER_HOST" in message
    assert "podman system service" in message


def test_a_docker_run_config_gives_the_image_and_env(client, make_agent, drive):
    from weir import Flow
    from weir.run_configs import DockerRun

    run_config = DockerRun(image="weir-test-base:latest", env={"MARK": "docker-run"})
    flow = Flow("docker-run-echo", run_config=run_config)
    run = client.create_flow_run(
        str(register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS))
    )
    code = "import os; print('seen', os.environ.get('MARK', '-')); raise SystemExit(4)"
    agent = make_agent(process_retries=0, command_factory=lambda r: ["python", "-c", code])
    agent.run_once(wait=5)
    drive(agent, lambda: not agent.running)
    state = client.get_flow_run(run.id).state
    assert "seen docker-run" in state.message and "exited with code 4" in state.message


def test_a_local_run_config_is_refused_by_a_docker_agent_with_the_reason(client, make_agent):
    from weir import Flow
    from weir.run_configs import LocalRun

    flow = Flow("local-only", run_config=LocalRun(working_dir="/srv"))
    run = client.create_flow_run(
        str(register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS))
    )
    agent = make_agent()
    assert agent.run_once(wait=5) == []
    state = client.get_flow_run(run.id).state
    assert state.type.value == "Failed"
    assert "run config is a LocalRun, which a docker agent does not run" in state.message
