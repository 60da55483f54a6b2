"""The local agent against a real server, starting real ``weir execute flow-run`` processes."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from weir.agent import LocalAgent
from weir.agent.testing import drive
from weir.client import Client
from weir.engine.state import FINISHED_TYPES
from weir.exceptions import ConfigurationError
from weir.utilities.waiting import wait_until


def _kinds(client: Client, run_id: object) -> list[str]:
    return [e.kind for e in client.get_trace(run_id)]


def _state(client: Client, run_id: object) -> str:
    return client.get_flow_run(run_id).state.type.value


def test_a_claimed_run_is_launched_watched_and_reaped(client, nap_flow_id, make_agent):
    lines: list[str] = []
    agent = make_agent(name="a1", echo=lines.append)
    run = client.create_flow_run(nap_flow_id, parameters={"seconds": 0.0})
    [launched] = agent.run_once(wait=5)
    assert launched.run_id == run.id and launched.flow_name == "nap"
    drive(agent, lambda: not agent.running)
    assert _state(client, run.id) == "Success"
    trace = client.get_trace(run.id)
    kinds = [e.kind for e in trace]
    for kind in ("claimed", "process_launched", "process_started", "flow_loaded", "process_exited"):
        assert kind in kinds, kinds
    assert kinds.index("process_launched") < kinds.index("process_started")
    event = next(e for e in trace if e.kind == "process_launched")
    assert event.data["pid"] == launched.process.pid and event.data["agent"] == "a1"
    started = next(e for e in trace if e.kind == "process_started")
    assert started.data["pid"] == launched.process.pid
    said = f"claimed run {str(run.id)[:8]}… (nap), pid {launched.process.pid}"
    assert any(said in line for line in lines)
    assert client.list_agents()[0].name == "a1"


def test_the_process_gets_the_api_url_checkpointing_and_the_run_config_env(
    client, make_agent, tmp_path
):
    from weir import Flow

    seen = tmp_path / "env.txt"
    run = _run_probe(
        client,
        make_agent,
        Flow("env-check", run_config={"env": {"WEIR_TEST_MARK": "from-run-config"}}),
        "'|'.join(os.environ.get(k, '') for k in "
        "('WEIR_API_URL', 'WEIR_CHECKPOINTING', 'WEIR_TEST_MARK', 'WEIR_API_KEY'))",
        seen,
    )
    assert seen.read_text() == f"{client.api_url}|true|from-run-config|"
    # The stand-in never reported an end, so the agent failed the run for it.
    failed = client.get_flow_run(run.id).state
    assert failed.type.value == "Failed"
    assert failed.message.startswith("Flow run process exited with code 0")


def _run_probe(client, make_agent, flow, expression: str, out) -> object:
    """Register ``flow``, start a run, and let the agent run a stand-in process that writes
    the Python ``expression`` (``os`` imported) to ``out`` instead of the flow; the run."""
    from weir.registration import register_flow
    from weir.storage import Local

    from .conftest import FLOWS

    registered = register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS)
    run = client.create_flow_run(registered)
    code = f"import os, sys; open(sys.argv[1], 'w').write({expression})"
    agent = make_agent(command_factory=lambda r: [sys.executable, "-c", code, str(out)])
    agent.run_once(wait=5)
    drive(agent, lambda: not agent.running)
    return run


def test_a_killed_process_fails_its_run_with_the_code_and_last_lines(
    client, nap_flow_id, make_agent
):
    agent = make_agent(process_retries=0)
    run = client.create_flow_run(nap_flow_id, parameters={"seconds": 60})
    [launched] = agent.run_once(wait=5)
    wait_until(lambda: any("napping for 60" in line for line in launched.process.tail(wait=0)))
    assert _state(client, run.id) == "Running"
    os.kill(launched.process.pid, signal.SIGKILL)
    drive(agent, lambda: not agent.running)
    state = client.get_flow_run(run.id).state
    assert state.type.value == "Failed"
    assert state.message.startswith("Flow run process exited with code -9 (SIGKILL):")
    assert "napping for 60" in state.message
    exited = [e for e in client.get_trace(run.id) if e.kind == "process_exited"]
    assert [e.data["code"] for e in exited] == [-9]


def test_a_process_that_cannot_start_fails_its_run(client, nap_flow_id, make_agent, tmp_path):
    missing = str(tmp_path / "no-such-program")
    agent = make_agent(command_factory=lambda r: [missing])
    run = client.create_flow_run(nap_flow_id)
    assert agent.run_once(wait=5) == []
    state = client.get_flow_run(run.id).state
    assert state.type.value == "Failed" and "could not start its process" in state.message


def test_a_run_finished_by_its_process_is_left_as_it_is(client, nap_flow_id, make_agent):
    agent = make_agent()
    run = client.create_flow_run(nap_flow_id)
    agent.run_once(wait=5)
    drive(agent, lambda: not agent.running)
    history = [h.state.type.value for h in client.flow_run_states(run.id)]
    assert history[-1] == "Success" and "Failed" not in history


def test_max_runs_caps_the_runs_in_flight(client, nap_flow_id, make_agent):
    agent = make_agent(max_runs=2)
    runs = [client.create_flow_run(nap_flow_id, parameters={"seconds": 0.3}) for _ in range(5)]
    assert len(agent.run_once(wait=5)) == 2
    assert agent.run_once(wait=0) == []  # both slots taken: nothing more is claimed
    waiting = [r for r in runs if _state(client, r.id) == "Scheduled"]
    assert len(waiting) == 3
    most = 0

    def done() -> bool:
        nonlocal most
        most = max(most, len(agent.running))
        return all(client.get_flow_run(r.id).state.type in FINISHED_TYPES for r in runs)

    drive(agent, done, timeout=60)
    assert most <= 2
    assert {_state(client, r.id) for r in runs} == {"Success"}


def test_max_runs_must_be_positive(api_url):
    with pytest.raises(ConfigurationError, match="max_runs must be at least 1"):
        LocalAgent(api_url=api_url, max_runs=0)


def test_shutdown_waits_for_runs_that_end_within_the_grace_period(client, nap_flow_id, make_agent):
    agent = make_agent()
    run = client.create_flow_run(nap_flow_id, parameters={"seconds": 0.5})
    agent.run_once(wait=5)
    agent.stop()
    agent.shutdown(grace_period=30)
    assert _state(client, run.id) == "Success"
    assert "handed_back" not in _kinds(client, run.id)


def test_shutdown_hands_back_runs_still_going_after_the_grace_period(
    client, nap_flow_id, make_agent
):
    agent = make_agent(name="leaving")
    run = client.create_flow_run(nap_flow_id, parameters={"seconds": 60})
    [launched] = agent.run_once(wait=5)
    wait_until(lambda: _state(client, run.id) == "Running")
    agent.stop()
    assert agent.run_once(wait=0) == []  # a stopping agent claims nothing
    agent.shutdown(grace_period=0.2)
    assert launched.process.poll() is not None
    back = client.get_flow_run(run.id)
    assert back.state.type.value == "Scheduled" and back.agent_id is None
    assert "Handed back by agent leaving" in (back.state.message or "")
    assert "handed_back" in _kinds(client, run.id)
    # Any agent may take it now.
    [again] = make_agent(name="other").run_once(wait=5)
    assert again.run_id == run.id


def test_show_output_prints_the_process_lines_with_the_run(client, nap_flow_id, make_agent, capsys):
    agent = make_agent(show_output=True)
    run = client.create_flow_run(nap_flow_id)
    agent.run_once(wait=5)
    drive(agent, lambda: not agent.running)
    assert f"[nap {str(run.id)[:8]}] napping for 0.0 s" in capsys.readouterr().err


def test_an_agent_the_server_forgot_registers_again(sqlite_server, make_agent):
    from weir.server.testing import clear

    agent = make_agent(name="phoenix")
    agent.register()
    first = agent.agent_id
    clear(sqlite_server[1])  # the server loses its data (a new database, say)
    agent.heartbeat(force=True)
    assert agent.agent_id is not None and agent.agent_id != first
    assert [a.name for a in agent.client.list_agents()] == ["phoenix"]


CRASH_ONCE = """
import os, time
from pathlib import Path
from weir import Flow, task

HERE = Path(os.environ["WEIR_TEST_DIR"])

def bump(name):
    f = HERE / name
    f.write_text((f.read_text() if f.exists() else "") + "x")

@task
def prepare():
    bump("prepare")
    return 7

@task
def crunch(x):
    bump("crunch")
    if not (HERE / "crashed-once").exists():
        (HERE / "crashed-once").write_text("")
        print("crunching for a long time", flush=True)
        time.sleep(60)
    return x * 6

with Flow("crash-once") as flow:
    crunch(prepare())
"""


def test_a_killed_process_is_scheduled_again_and_the_next_attempt_succeeds(
    client, make_agent, tmp_path, monkeypatch
):
    from weir.registration import register_flow
    from weir.storage import Local
    from weir.storage.scripts import flows_in_script

    script = tmp_path / "crash_once.py"
    script.write_text(CRASH_ONCE)
    env = {"WEIR_HOME": str(tmp_path / "home"), "WEIR_TEST_DIR": str(tmp_path)}
    monkeypatch.setenv("WEIR_TEST_DIR", str(tmp_path))
    (flow,) = flows_in_script(script).values()
    flow_id = register_flow(flow, client=client, storage=Local(path=script), source=script)
    run = client.create_flow_run(flow_id)
    agent = make_agent(env=env, prestart=False)
    [launched] = agent.run_once(wait=5)
    wait_until(lambda: any("crunching" in line for line in launched.process.tail(wait=0)))
    # Kill only once the server has prepare's result (reports travel in batches).
    wait_until(
        lambda: any(
            t.task_slug == "prepare-1" and t.state.type.value == "Success"
            for t in client.list_task_runs(run.id)
        )
    )
    os.kill(launched.process.pid, signal.SIGKILL)
    drive(agent, lambda: _state(client, run.id) == "Success" and not agent.running)
    history = [h.state for h in client.flow_run_states(run.id)]
    again = [
        h for h in history if h.type.value == "Scheduled" and "Scheduled again" in (h.message or "")
    ]
    assert len(again) == 1 and "(crash 1 of at most 3)" in again[0].message
    assert "exited with code -9 (SIGKILL)" in again[0].message
    assert (tmp_path / "prepare").read_text() == "x"  # kept from the first attempt
    assert (tmp_path / "crunch").read_text() == "xx"
    exited = [e.data["code"] for e in client.get_trace(run.id) if e.kind == "process_exited"]
    assert exited == [-9, 0]


def test_a_local_run_config_sets_the_process_env_and_working_dir(client, make_agent, tmp_path):
    from weir import Flow
    from weir.run_configs import LocalRun

    seen = tmp_path / "seen.txt"
    workdir = tmp_path / "work"
    workdir.mkdir()
    config = LocalRun(env={"WEIR_TEST_MARK": "local"}, working_dir=str(workdir))
    _run_probe(
        client,
        make_agent,
        Flow("local-run", run_config=config),
        "os.getcwd() + '|' + os.environ.get('WEIR_TEST_MARK', '')",
        seen,
    )
    assert seen.read_text() == f"{workdir}|local"


def test_a_docker_run_config_is_refused_by_a_local_agent_with_the_reason(client, make_agent):
    from weir import Flow
    from weir.registration import register_flow
    from weir.run_configs import DockerRun
    from weir.storage import Local

    from .conftest import FLOWS

    flow = Flow("docker-only", run_config=DockerRun(image="etl:1"))
    run = client.create_flow_run(
        register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS)
    )
    agent = make_agent()
    assert agent.run_once(wait=5) == []
    state = client.get_flow_run(run.id).state
    assert state.type.value == "Failed"
    assert "run config is a DockerRun, which a local agent does not run" in state.message


def test_a_paused_run_stays_paused_when_its_process_exits_and_resumes(client, make_agent):
    # A manual_only task under an agent: the run waits for a person, not failed for a
    # process that ended without a final state; resumed, an agent runs it on.
    from weir.registration import register_flow
    from weir.storage import Local
    from weir.storage.scripts import flows_in_script

    from .conftest import FLOWS

    flow = flows_in_script(FLOWS)["approval"]
    flow_id = register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS)
    agent = make_agent(name="approver")
    run = client.create_flow_run(flow_id)
    agent.run_once(wait=5)
    drive(agent, lambda: not agent.running)
    assert _state(client, run.id) == "Paused"
    assert "approve waits for approval" in client.get_flow_run(run.id).state.message
    assert "process_exited" in _kinds(client, run.id)
    client.resume_flow_run(run.id)
    agent.run_once(wait=5)
    drive(agent, lambda: not agent.running)
    assert _state(client, run.id) == "Success"
    [approved] = [t for t in client.list_task_runs(run.id) if t.task_slug == "approve-1"]
    assert [h.state.type.value for h in client.task_run_states(approved.id)][-2:] == [
        "Running",
        "Success",
    ]
