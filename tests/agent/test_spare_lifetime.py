"""The spare process never outlives its agent, however the agent goes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from weir.client import Client
from weir.utilities.waiting import wait_until

from .conftest import register_nap

pytestmark = pytest.mark.integration

# A stand-in agent that starts a spare and lets another process inherit the write end
# of the spare's input, so the spare's input never ends when this process dies.
LEAKY_PARENT = r"""
import os, subprocess, sys, time
read, write = os.pipe()
holder = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(120)"], pass_fds=[write]
)
spare = subprocess.Popen(
    [sys.executable, "-m", "weir.agent.warm"],
    stdin=read,
    env={**os.environ, "WEIR_AGENT_PID": str(os.getpid())},
    start_new_session=True,
)
os.close(read)
print(spare.pid, holder.pid, flush=True)
time.sleep(120)
"""


def _gone_within(process: psutil.Process, seconds: float) -> bool:
    try:
        process.wait(seconds)
    except psutil.TimeoutExpired:
        return False
    return True


def _kill(process: psutil.Process) -> None:
    try:
        process.kill()  # psutil checks first that the pid is still this process
    except psutil.NoSuchProcess:
        pass


def test_a_spare_whose_input_stays_open_still_exits_when_its_agent_is_killed():
    parent = subprocess.Popen(
        [sys.executable, "-c", LEAKY_PARENT], stdout=subprocess.PIPE, text=True
    )
    spare_pid, holder_pid = (int(p) for p in parent.stdout.readline().split())
    spare, holder = psutil.Process(spare_pid), psutil.Process(holder_pid)
    try:
        parent.kill()
        parent.wait(10)
        # Its imports run at low priority on a busy machine: allow them time.
        assert _gone_within(spare, 30), "the spare outlived its agent"
        assert holder.is_running()  # its input was still open all along
    finally:
        for process in (spare, holder):
            _kill(process)
        parent.stdout.close()


def _spare_beside(agent: psutil.Process, run_pid: int) -> psutil.Process | None:
    for child in agent.children():
        if child.pid != run_pid and "weir.agent.warm" in child.cmdline():
            return child
    return None


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_the_spare_exits_when_its_agent_goes_while_a_run_hangs(api_url, tmp_path, signum):
    env = {**os.environ, "WEIR_API_URL": api_url, "WEIR_HOME": str(tmp_path)}
    with Client(api_url) as client:
        run = client.create_flow_run(register_nap(client), parameters={"seconds": 600})
        agent = subprocess.Popen(
            [sys.executable, "-m", "weir", "agent", "start", "--name", "spare-life"]
            + ["--grace-period", "0.5", "--start-method", "spawn"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=Path(tmp_path),
        )
        agent_process = psutil.Process(agent.pid)
        started: list[psutil.Process] = []
        try:
            wait_until(lambda: client.get_flow_run(run.id).state.type.value == "Running")
            [launched] = [e for e in client.get_trace(run.id) if e.kind == "process_launched"]
            run_process = psutil.Process(launched.data["pid"])
            started.append(run_process)
            # The next spare starts beside a run once the run has had the machine a while.
            wait_until(lambda: _spare_beside(agent_process, run_process.pid) is not None)
            spare = _spare_beside(agent_process, run_process.pid)
            assert spare is not None
            started.append(spare)
            agent.send_signal(signum)
            agent.wait(30)
            assert _gone_within(spare, 30), "the spare outlived its agent"
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait(10)
            # After SIGKILL the run itself goes on, as a run started cold would.
            for process in started:
                _kill(process)
