"""A task that holds the GIL past the heartbeat timeout keeps its run: it runs once.

The flow-run process's heartbeat thread cannot send anything while a task holds
the GIL in one long C call (here libc's ``sleep`` called through ``ctypes.PyDLL``,
which does not release it, standing in for a huge ``json.loads`` or a native
library). Its agent, another process, sees it alive and heartbeats for it, so
lazarus does not presume it dead, reschedule it and let a second process run the
same task. Real processes: ``weir server start`` with lazarus judging silence
after 3 s, ``weir agent start`` heartbeating every 0.5 s.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from weir.client import Client
from weir.server.testing import free_port, temporary_database

from . import _procs_fence
from ._procs_fence import Proc, base_env, start_server

pytestmark = [pytest.mark.slow, pytest.mark.integration]

HOLD_SECONDS = 8  # well past lazarus's timeout below

FLOW = f"""
import ctypes, os
from weir import Flow, task

@task
def hold():
    # libc's sleep with the GIL held: no other thread of this process runs meanwhile.
    ctypes.PyDLL(None).sleep({HOLD_SECONDS})
    with open(os.environ["GIL_OUT"], "a") as f:
        f.write("held\\n")

with Flow("gil-holder") as flow:
    hold()
"""


def test_a_task_holding_the_gil_past_the_timeout_is_not_run_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from weir.registration import register_flow
    from weir.storage import Local
    from weir.storage.scripts import flows_in_script

    # Lazarus judges silence after 3 s (the fence helpers' default is 2 s).
    monkeypatch.setattr(_procs_fence, "HEARTBEAT_TIMEOUT", 3.0)
    home, out, port = tmp_path / "home", tmp_path / "ran.txt", free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    with temporary_database("sqlite") as db:
        server = start_server(db, port, home, tmp_path / "server.log")
        env = base_env(home)
        env.update(
            WEIR_API_URL=url,
            WEIR_HEARTBEAT_SECONDS="0.3",
            WEIR_AGENT_HEARTBEAT_SECONDS="0.5",
            GIL_OUT=str(out),
        )
        agent = Proc(["agent", "start", "--name", "gil-agent"], env, tmp_path / "agent.log")
        client = Client(url, retries=8, backoff=0.1)
        try:
            script = tmp_path / "gil_flow.py"
            script.write_text(textwrap.dedent(FLOW))
            flow = flows_in_script(script)["gil-holder"]
            flow_id = register_flow(flow, client=client, storage=Local(path=script), source=script)
            run = client.create_flow_run(flow_id)
            final = client.wait_for_flow_run(run.id, poll=0.3, timeout=90)
            why = f"{server.output()[-3000:]}\n{agent.output()[-3000:]}"
            assert final.state.type.value == "Success", (final.state, why)
            assert out.read_text().splitlines() == ["held"], why
            kinds = [e.kind for e in client.get_trace(run.id)]
            assert "rescheduled_by_lazarus" not in kinds, (kinds, why)
            assert kinds.count("process_launched") == 1, (kinds, why)
            assert final.attempt == 1
        finally:
            client.close()
            agent.stop()
            server.stop()
