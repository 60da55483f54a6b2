"""The Prefect 1 task library under a real agent: ShellTask, resource_manager, apply_map
with a case, on LocalDaskExecutor — the same flow that runs locally runs under the agent."""

from __future__ import annotations

from weir.agent.testing import drive
from weir.registration import register_flow
from weir.storage import Local
from weir.storage.scripts import flows_in_script

from .conftest import FLOWS


def test_the_task_library_flow_runs_alike_locally_and_under_the_agent(client, make_agent, tmp_path):
    flow = flows_in_script(FLOWS)["task-library"]
    local_root = tmp_path / "local"
    local_root.mkdir()
    state = flow.run(parameters={"root": str(local_root), "path": str(tmp_path / "local.txt")})
    assert state.is_successful(), state.result
    expected = "['made-by-shell', [1, 4, 3, 8]]"
    assert (tmp_path / "local.txt").read_text() == expected

    agent_root = tmp_path / "agent"
    agent_root.mkdir()
    flow_id = register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS)
    run = client.create_flow_run(
        flow_id, parameters={"root": str(agent_root), "path": str(tmp_path / "agent.txt")}
    )
    agent = make_agent()
    drive(agent, lambda: client.get_flow_run(run.id).state.type.value in ("Success", "Failed"))
    assert client.get_flow_run(run.id).state.type.value == "Success"
    assert (tmp_path / "agent.txt").read_text() == expected
    # The resource was cleaned up after its block, and the shell's output is in the run's logs.
    assert (agent_root / "cleaned").read_text() == str(agent_root / "scratch")
    messages = [log.message for log in client.get_logs(run.id).logs]
    assert "made-by-shell" in messages
