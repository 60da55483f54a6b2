"""A task-tag concurrency limit holds across flow runs the agent runs side by side."""

from __future__ import annotations

from weir.agent.testing import drive
from weir.engine.state import FINISHED_TYPES
from weir.registration import register_flow
from weir.storage import Local
from weir.storage.scripts import flows_in_script

from .conftest import FLOWS


def test_a_tag_limit_of_one_lets_one_task_run_at_a_time_across_runs(client, make_agent, tmp_path):
    flow = flows_in_script(FLOWS)["warehouse"]
    flow_id = register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS)
    client.set_concurrency_limit("warehouse", 1)
    counter = tmp_path / "holders.txt"
    runs = [
        client.create_flow_run(flow_id, parameters={"path": str(counter), "seconds": 0.5})
        for _ in range(3)
    ]
    # Cold starts alike, so that the three runs reach the task together and contend.
    agent = make_agent(prestart=False)
    drive(
        agent,
        lambda: all(client.get_flow_run(r.id).state.type in FINISHED_TYPES for r in runs),
        timeout=60,
    )
    assert {client.get_flow_run(r.id).state.type.value for r in runs} == {"Success"}
    # Three processes ran at once, yet the warehouse never had two holders.
    assert counter.read_text() == "0 1"
    launched = [e for r in runs for e in client.get_trace(r.id) if e.kind == "process_launched"]
    assert len(launched) == 3
    waited = [e for r in runs for e in client.get_trace(r.id) if e.kind == "task_waiting_for_slot"]
    assert waited, "no task ever waited for the warehouse"
    assert client.get_concurrency_limit("warehouse").active_slots == 0
