"""The spare process: started ahead with weir imported, it becomes the next run's process."""

from __future__ import annotations

from weir.agent.testing import drive
from weir.registration import register_flow
from weir.storage import Local
from weir.storage.scripts import flows_in_script

from .conftest import FLOWS


def test_the_spare_process_takes_the_next_run_and_a_new_spare_starts(
    client, nap_flow_id, make_agent
):
    agent = make_agent()
    assert agent.run_once(wait=0) == []
    spare = agent._spare
    assert spare is not None and spare.poll() is None
    run = client.create_flow_run(nap_flow_id)
    [launched] = agent.run_once(wait=5)
    assert launched.process is spare
    assert agent._spare is not None and agent._spare.pid != spare.pid
    drive(agent, lambda: not agent.running)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    [started] = [e for e in client.get_trace(run.id) if e.kind == "process_started"]
    assert started.data["pid"] == spare.pid
    next_spare = agent._spare
    agent.shutdown(grace_period=0)
    assert next_spare.wait(10) == 0  # a spare that is let go exits cleanly


def test_a_run_whose_run_config_sets_variables_gets_a_process_of_its_own(
    client, make_agent, tmp_path
):
    flow = flows_in_script(FLOWS)["env-probe"]
    flow_id = register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS)
    agent = make_agent()
    agent.run_once(wait=0)
    spare = agent._spare
    seen = tmp_path / "mark.txt"
    run = client.create_flow_run(flow_id, parameters={"path": str(seen)})
    [launched] = agent.run_once(wait=5)
    assert launched.process is not spare and agent._spare is spare
    drive(agent, lambda: not agent.running)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    assert seen.read_text() == "from-run-config"


def test_without_prestart_every_run_starts_cold(client, nap_flow_id, make_agent):
    agent = make_agent(prestart=False)
    run = client.create_flow_run(nap_flow_id)
    [launched] = agent.run_once(wait=5)
    assert agent._spare is None
    drive(agent, lambda: not agent.running)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    assert launched.process.args[-3:] == ["execute", "flow-run", str(run.id)]
