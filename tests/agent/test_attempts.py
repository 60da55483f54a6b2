"""The agent hands each process its run's attempt, and leaves alone a run taken over since."""

from __future__ import annotations

import sys

from weir.agent.testing import drive


def test_the_process_gets_the_attempt_of_the_claim(client, nap_flow_id, make_agent, tmp_path):
    seen = tmp_path / "attempt.txt"
    code = "import os, sys; open(sys.argv[1], 'w').write(os.environ['WEIR_FLOW_RUN_ATTEMPT'])"
    agent = make_agent(command_factory=lambda r: [sys.executable, "-c", code, str(seen)])
    run = client.create_flow_run(nap_flow_id, parameters={"seconds": 0.0})
    [launched] = agent.run_once(wait=5)
    assert launched.attempt == 1
    drive(agent, lambda: not agent.running)
    assert seen.read_text() == "1"
    assert agent.process_env(client.get_flow_run(run.id))["WEIR_FLOW_RUN_ATTEMPT"] == "1"


def test_a_run_taken_over_since_its_process_started_is_left_alone_when_it_dies(
    client, nap_flow_id, make_agent
):
    lines: list[str] = []
    agent = make_agent(prestart=False, echo=lines.append)
    run = client.create_flow_run(nap_flow_id, parameters={"seconds": 30.0})
    [launched] = agent.run_once(wait=5)
    drive(agent, lambda: client.get_flow_run(run.id).state.type.value == "Running")
    # What lazarus and another claim do while the process is paused or cut off.
    now = client.get_flow_run(run.id)
    client.set_flow_run_state(run.id, {"type": "Scheduled", "start_time": 0}, now.version)
    [taken] = client.claim(limit=1, wait=5)
    assert taken.id == run.id and taken.attempt == 2
    launched.process.stop()  # it dies with a signal: a crash, had it still been its run
    agent.reap()
    after = client.get_flow_run(run.id)
    assert (after.state.type.value, after.version) == ("Submitted", taken.version)
    assert any("the run is Submitted" in line for line in lines), lines
