"""The fork server: each run a child forked from one warm process, still a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from weir.agent.forkserver import ForkedProcess
from weir.agent.testing import drive
from weir.client import Client
from weir.registration import register_flow
from weir.storage import Local
from weir.storage.scripts import flows_in_script
from weir.utilities.waiting import wait_until

from .conftest import FLOWS, register_nap

pytestmark = [pytest.mark.slow, pytest.mark.integration]

FINAL = ("Success", "Failed", "Cancelled")


def _register(client: Client, name: str, script: Path = FLOWS) -> str:
    flow = flows_in_script(script)[name]
    return str(register_flow(flow, client=client, storage=Local(path=script), source=script))


def _state(client: Client, run_id: object) -> str:
    return client.get_flow_run(run_id).state.type.value


def _ended(client: Client, *run_ids: object) -> bool:
    return all(_state(client, r) in FINAL for r in run_ids)


def test_runs_are_forked_by_one_server_and_behave_as_weir_execute(client, make_agent):
    agent = make_agent(start_method="fork")
    agent.run_once(wait=0)
    server = agent._forkserver
    assert server is not None and server.alive()
    flow_id = register_nap(client)
    runs = [client.create_flow_run(flow_id, parameters={"seconds": 0.1}) for _ in range(3)]
    launched = agent.run_once(wait=5)
    assert {x.run_id for x in launched} == {r.id for r in runs}  # claimed in one batch
    drive(agent, lambda: not agent.running)
    for one in launched:
        assert _state(client, one.run_id) == "Success"
        [started] = [e for e in client.get_trace(one.run_id) if e.kind == "process_started"]
        # The run's own process (not the server) ran it, and the agent knew its pid.
        assert started.data["pid"] == one.process.pid != server.pid
        assert one.process.poll() == 0
        # Its output reached the agent as a spawned run's does.
        assert "napping for 0.1 s" in one.process.tail()
    assert agent._forkserver is server and server.alive()  # one server for all runs


@pytest.mark.parametrize("how", ["exit", "segfault"])
def test_a_crash_takes_down_its_run_only(client, make_agent, how):
    agent = make_agent(start_method="fork", process_retries=0)
    crash = client.create_flow_run(_register(client, "crash"), parameters={"how": how})
    [launched] = agent.run_once(wait=5)
    assert isinstance(launched.process, ForkedProcess)
    drive(agent, lambda: crash.id not in agent.running)
    run = client.get_flow_run(crash.id)
    assert run.state.type.value == "Failed"
    code = "code 3" if how == "exit" else f"code -{int(signal.SIGSEGV)} (SIGSEGV)"
    assert f"exited with {code}" in run.state.message, run.state.message
    assert f"crashing by {how}" in run.state.message  # its last words
    # The server that forked it goes on, and the next runs work.
    server = agent._forkserver
    assert server is not None and server.alive()
    nap_id = register_nap(client)
    after = [client.create_flow_run(nap_id) for _ in range(2)]
    drive(agent, lambda: _ended(client, *(r.id for r in after)))
    assert [_state(client, r.id) for r in after] == ["Success", "Success"]
    assert agent._forkserver is server


VERSIONED = """
from weir import Flow, Parameter, task

@task
def mark(path):
    with open(path, "w") as f:
        f.write({value!r})

with Flow("versioned") as flow:
    mark(Parameter("path"))
"""


def test_a_flow_changed_on_disk_runs_its_new_code(client, make_agent, tmp_path):
    script = tmp_path / "versioned.py"
    script.write_text(textwrap.dedent(VERSIONED.format(value="first")))
    flow_id = _register(client, "versioned", script)
    agent = make_agent(start_method="fork")
    seen = tmp_path / "seen.txt"
    first = client.create_flow_run(flow_id, parameters={"path": str(seen)})
    drive(agent, lambda: _ended(client, first.id))
    assert seen.read_text() == "first"
    server = agent._forkserver
    script.write_text(textwrap.dedent(VERSIONED.format(value="second")))
    second = client.create_flow_run(flow_id, parameters={"path": str(seen)})
    drive(agent, lambda: _ended(client, second.id))
    assert _state(client, second.id) == "Success"
    assert seen.read_text() == "second"
    assert agent._forkserver is server  # the same warm server, the new code


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_cancelling_a_run_stops_its_process_and_what_it_started(
    client, make_agent, tmp_path, method
):
    agent = make_agent(start_method=method, cancel_grace=0.5, cancel_check_seconds=0.2)
    pids = tmp_path / "pids.txt"
    flow_id = _register(client, "nap-beside-a-child")
    run = client.create_flow_run(flow_id, parameters={"path": str(pids)})
    drive(agent, lambda: pids.exists())
    run_pid, child_pid = (int(p) for p in pids.read_text().split())
    client.cancel_flow_run(run.id)
    drive(agent, lambda: run.id not in agent.running)
    assert _state(client, run.id) == "Cancelled"
    wait_until(lambda: _gone(run_pid) and _gone(child_pid))
    # The agent keeps serving.
    after = client.create_flow_run(register_nap(client))
    drive(agent, lambda: _ended(client, after.id))
    assert _state(client, after.id) == "Success"


def test_the_fork_server_exits_when_its_agent_is_killed(api_url, tmp_path):
    env = {**os.environ, "WEIR_API_URL": api_url, "WEIR_HOME": str(tmp_path)}
    agent = subprocess.Popen(
        [sys.executable, "-m", "weir", "agent", "start", "--name", "fork-life"]
        + ["--start-method", "fork"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        agent_process = psutil.Process(agent.pid)

        def server() -> psutil.Process | None:
            for child in agent_process.children():
                if "weir.agent.forkserver" in child.cmdline():
                    return child
            return None

        wait_until(lambda: server() is not None)
        forkserver = server()
        assert forkserver is not None
        agent.kill()
        agent.wait(10)
        forkserver.wait(30)  # raises psutil.TimeoutExpired if it outlived its agent
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait(10)


def test_spawn_keeps_todays_path(client, make_agent):
    agent = make_agent(start_method="spawn")
    agent.run_once(wait=0)
    assert agent._forkserver is None and agent._spare is not None
    run = client.create_flow_run(register_nap(client))
    [launched] = agent.run_once(wait=5)
    assert not isinstance(launched.process, ForkedProcess)
    drive(agent, lambda: not agent.running)
    assert _state(client, run.id) == "Success"


def test_a_bad_start_method_is_refused(make_agent):
    from weir.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="start_method must be one of fork, spawn"):
        make_agent(start_method="forkserver")


def test_a_fork_server_that_dies_is_started_again_and_its_run_still_ends(client, make_agent):
    agent = make_agent(start_method="fork")
    flow_id = register_nap(client)
    first = client.create_flow_run(flow_id, parameters={"seconds": 1.0})
    [launched] = agent.run_once(wait=5)
    server = agent._forkserver
    assert server is not None
    os.kill(server.pid, signal.SIGKILL)
    server.process.wait(10)
    # Its child goes on; the agent sees it end (its code lost with the server) and
    # reads the run the child finished.
    drive(agent, lambda: not agent.running)
    assert _state(client, first.id) == "Success"
    assert launched.process.poll() is not None
    second = client.create_flow_run(flow_id)
    drive(agent, lambda: _ended(client, second.id))
    assert _state(client, second.id) == "Success"
    assert agent._forkserver is not server and agent._forkserver.alive()


#: A flow that notes, when its run loads it, whether ``wave`` was imported already.
PRELOAD_SEEN = """
import os
import sys

from weir import Flow, task

if "PRELOAD_SEEN" in os.environ:  # the runs' processes (not the registering test)
    with open(os.environ["PRELOAD_SEEN"], "a") as seen:
        seen.write(f"{'wave' in sys.modules}\\n")

import wave  # noqa: E402,F401 - the library a real flow would preload


@task
def one():
    return 1


with Flow("uses-wave") as uses_wave:
    one()
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
@pytest.mark.parametrize("preload", [True, False])
def test_preloaded_libraries_are_imported_once_for_every_run(
    client, make_agent, tmp_path, method, preload
):
    script = tmp_path / "uses_wave.py"
    script.write_text(PRELOAD_SEEN)
    flow_id = _register(client, "uses-wave", script)
    seen = tmp_path / "seen.txt"
    env = {"WEIR_HOME": str(tmp_path / "home"), "PRELOAD_SEEN": str(seen)}
    agent = make_agent(start_method=method, preload=["wave"] if preload else [], env=env)
    agent.run_once(wait=0)  # the fork server, or the spare, starts with its imports
    runs = []
    for _ in range(2):
        runs.append(client.create_flow_run(flow_id))
        # Until its process is reaped too: a spare starts only once no run is in flight
        # (or 2 s after the last launch), so a run claimed while the process of the one
        # before still exits would start cold, which is not what this test looks at.
        drive(agent, lambda: _ended(client, runs[-1].id) and not agent.running)
    assert [_state(client, r.id) for r in runs] == ["Success", "Success"]
    # Each run found the library imported before its flow asked for it, or imported it.
    assert seen.read_text().split() == [str(preload)] * 2


THREADED_LIBRARY = """
import threading
import time

threading.Thread(target=time.sleep, args=(60,), name="poller", daemon=True).start()
"""


def test_a_library_whose_import_starts_threads_is_not_preloaded(
    client, make_agent, tmp_path, caplog
):
    # Forking it would hand each run the thread's locks without the thread: the fork
    # server refuses, says why, and the agent spawns each run instead.
    (tmp_path / "threaded_library.py").write_text(THREADED_LIBRARY)
    env = {"WEIR_HOME": str(tmp_path / "home"), "PYTHONPATH": str(tmp_path)}
    agent = make_agent(start_method="fork", preload=["threaded_library"], env=env)
    run = client.create_flow_run(register_nap(client))
    drive(agent, lambda: _ended(client, run.id))
    assert _state(client, run.id) == "Success"
    wait_until(lambda: agent._live_forkserver() is None, 10, interval=0.1)
    assert not agent.forking
    said = caplog.text
    assert "cannot preload threaded_library" in said and "poller" in said, said


def test_a_malformed_preload_is_refused(make_agent):
    from weir.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="'pandas; rm' is not a module name"):
        make_agent(preload=["pandas; rm"])
    # Several in one entry, as a shell variable would hold them.
    assert make_agent(preload=["wave, sched", "colorsys"]).preload == ["wave", "sched", "colorsys"]
    # Spawned cold, a run has no warm process to find the library in.
    with pytest.raises(ConfigurationError, match="--preload needs a warm process"):
        make_agent(start_method="spawn", prestart=False, preload=["wave"])
