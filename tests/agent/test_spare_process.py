"""The spare process (``start_method="spawn"``): started ahead with weir imported, it becomes
the next run's process."""

from __future__ import annotations

import time

from weir.agent.testing import drive
from weir.registration import register_flow
from weir.storage import Local
from weir.storage.scripts import flows_in_script

from .conftest import FLOWS, register_nap


def test_the_spare_process_takes_the_next_run_and_a_new_spare_starts(
    client, nap_flow_id, make_agent
):
    agent = make_agent(start_method="spawn")
    assert agent.run_once(wait=0) == []
    spare = agent._spare
    assert spare is not None and spare.poll() is None
    run = client.create_flow_run(nap_flow_id)
    [launched] = agent.run_once(wait=5)
    assert launched.process is spare
    # The run just launched does not share the machine with the next spare's imports.
    assert agent._spare is None
    drive(agent, lambda: not agent.running)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    [started] = [e for e in client.get_trace(run.id) if e.kind == "process_started"]
    assert started.data["pid"] == spare.pid
    # With no run in flight, the next pass starts the next spare.
    agent.run_once(wait=0)
    next_spare = agent._spare
    assert next_spare is not None and next_spare.pid != spare.pid and next_spare.poll() is None
    agent.shutdown(grace_period=0)
    assert next_spare.wait(10) == 0  # a spare that is let go exits cleanly


def test_a_long_run_gets_the_next_spare_started_after_the_delay(client, make_agent):
    agent = make_agent(start_method="spawn", spare_delay=0.5)
    agent.run_once(wait=0)
    run = client.create_flow_run(register_nap(client), parameters={"seconds": 3.0})
    [launched] = agent.run_once(wait=5)
    assert agent._spare is None
    # Passes within the delay leave it so; one after it starts the spare beside the run.
    agent.run_once(wait=0)
    assert agent._spare is None and agent.claim_wait_now() <= 0.25
    time.sleep(0.6)
    agent.run_once(wait=0)
    assert agent._spare is not None and launched.process.poll() is None
    assert agent.claim_wait_now() > 0.25
    drive(agent, lambda: not agent.running)
    assert client.get_flow_run(run.id).state.type.value == "Success"


def test_a_run_whose_run_config_sets_variables_gets_a_process_of_its_own(
    client, make_agent, tmp_path
):
    flow = flows_in_script(FLOWS)["env-probe"]
    flow_id = register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS)
    agent = make_agent(start_method="spawn")
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
    agent = make_agent(start_method="spawn", prestart=False)
    run = client.create_flow_run(nap_flow_id)
    [launched] = agent.run_once(wait=5)
    assert agent._spare is None
    drive(agent, lambda: not agent.running)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    assert launched.process.args[-3:] == ["execute", "flow-run", str(run.id)]
