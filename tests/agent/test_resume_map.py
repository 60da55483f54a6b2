"""An agent stopped while a map is half done: another agent finishes it, children kept."""

from __future__ import annotations

from tests.faults._procs_resume import ITEMS, SLOW_MAP, finished_children, settled_children

from weir.agent.testing import drive
from weir.client import Client
from weir.utilities.waiting import wait_until


def _state(client: Client, run_id: object) -> str:
    return client.get_flow_run(run_id).state.type.value


def test_a_run_handed_back_mid_map_is_finished_without_rerunning_children(
    client, make_agent, tmp_path
):
    from weir.registration import register_flow
    from weir.storage import Local
    from weir.storage.scripts import flows_in_script

    script = tmp_path / "slow_map.py"
    script.write_text(SLOW_MAP)
    env = {"WEIR_HOME": str(tmp_path / "home")}
    (flow,) = flows_in_script(script).values()
    flow_id = register_flow(flow, client=client, storage=Local(path=script), source=script)
    run = client.create_flow_run(flow_id)

    leaving = make_agent(name="leaving", env=env, prestart=False)
    [launched] = leaving.run_once(wait=5)
    wait_until(lambda: len(finished_children(client, run.id)) >= 3, 60, "map not going")
    leaving.stop()
    leaving.shutdown(grace_period=0.2)
    assert launched.process.poll() is not None
    assert _state(client, run.id) == "Scheduled"
    done_before = settled_children(client, run.id)
    assert len(done_before) < ITEMS, "the run ended before the agent stopped"
    ran = tmp_path / "ran.txt"
    ran.write_text("")

    other = make_agent(name="other", env=env, prestart=False)
    drive(other, lambda: _state(client, run.id) == "Success" and not other.running, timeout=60)
    rerun = sorted(int(x) for x in ran.read_text().split())
    assert rerun == sorted(set(range(ITEMS)) - done_before)
    assert (tmp_path / "total.txt").read_text() == repr([x * 10 for x in range(ITEMS)])
    resumed = [e.data for e in client.get_trace(run.id) if e.kind == "flow_run_resumed"]
    # The mapped task, and the task it maps over.
    assert resumed == [{"tasks_kept": 2, "children_kept": len(done_before)}]
    messages = [line.message for line in client.get_logs(run.id).logs]
    assert not [m for m in messages if "cannot move" in m], messages
