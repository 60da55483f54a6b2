"""A flow-run process killed mid-map: the next attempt runs only the children left.

Each child appends its map index to a file beside the flow script and sleeps, so
the test can kill ``weir execute flow-run`` with SIGKILL once some children are
Success on the server, run it again, and see from the file which children ran in
which attempt.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from tests.execution import conftest as execution
from tests.execution.conftest import Harness
from tests.faults._procs_resume import ITEMS, SLOW_MAP, finished_children, settled_children

from weir.client import Client
from weir.utilities.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]

# The live server (SQLite and PostgreSQL) and the harness that runs `weir execute`.
database = execution.database
server = execution.server
client = execution.client
harness = execution.harness


def test_a_run_killed_mid_map_resumes_with_the_children_left(
    harness: Harness, client: Client, tmp_path: Path
) -> None:
    ids = harness.register(SLOW_MAP)
    run = client.create_flow_run(flow_id=ids["slow-map"])
    proc = harness.start(run.id)
    try:
        wait_until(lambda: len(finished_children(client, run.id)) >= 3, 60)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    done_before = settled_children(client, run.id)
    assert 3 <= len(done_before) < ITEMS, done_before
    ran = tmp_path / "ran.txt"
    first_attempt = ran.read_text().split()
    ran.write_text("")

    harness.execute(run.id)

    final = client.get_flow_run(run.id)
    assert final.state.type.value == "Success", final.state
    second_attempt = sorted(int(x) for x in ran.read_text().split())
    # Every child the server held finished ran once only; the rest ran now.
    assert second_attempt == sorted(set(range(ITEMS)) - done_before), (first_attempt, done_before)
    assert (tmp_path / "total.txt").read_text() == repr([x * 10 for x in range(ITEMS)])
    task_runs = {
        (t.task_slug, t.map_index): t.state.type.value for t in client.list_task_runs(run.id)
    }
    assert task_runs[("work-1", -1)] == "Mapped"
    assert all(task_runs[("work-1", k)] == "Success" for k in range(ITEMS))

    resumed = [e.data for e in client.get_trace(run.id) if e.kind == "flow_run_resumed"]
    # The items task, and the mapped task with its finished children.
    assert resumed == [{"tasks_kept": 2, "children_kept": len(done_before)}]
    messages = [line.message for line in client.get_logs(run.id).logs]
    assert not [m for m in messages if "cannot move" in m], messages


FAILS_ONCE = """
from pathlib import Path
from weir import Flow, task


HERE = Path(__file__).parent

@task
def work(x):
    with (HERE / "ran.txt").open("a") as f:
        f.write(f"{x}\\n")
    if x == 2 and not (HERE / "failed-once").exists():
        (HERE / "failed-once").write_text("")
        raise ValueError("the target was down")
    return x * 10

@task
def total(xs):
    return sum(xs)

with Flow("fails-once") as flow:
    total(work.map([0, 1, 2, 3]))
"""


def test_a_restarted_run_reruns_only_the_failed_child(
    harness: Harness, client: Client, tmp_path: Path
) -> None:
    ids = harness.register(FAILS_ONCE)
    run = client.create_flow_run(flow_id=ids["fails-once"])
    harness.execute(run.id)
    assert client.get_flow_run(run.id).state.type.value == "Failed"
    ran = tmp_path / "ran.txt"
    ran.write_text("")
    client.restart_flow_run(run.id)
    harness.execute(run.id)
    assert client.get_flow_run(run.id).state.type.value == "Success"
    assert ran.read_text().split() == ["2"]
    task_runs = {(t.task_slug, t.map_index): t for t in client.list_task_runs(run.id)}
    parent = task_runs[("work-1", -1)]
    assert parent.state.type.value == "Mapped"
    # Summed up by each attempt: the second with all four children succeeded.
    history = [h.state.type.value for h in client.task_run_states(parent.id)]
    assert history == ["Mapped", "Mapped"]
    assert [task_runs[("work-1", k)].state.type.value for k in range(4)] == ["Success"] * 4
    # The reduce was TriggerFailed: reopened, run, and written like the failed child.
    assert task_runs[("total-1", -1)].state.type.value == "Success"
    messages = [line.message for line in client.get_logs(run.id).logs]
    assert not [m for m in messages if "cannot move" in m], messages
