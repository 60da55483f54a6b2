"""The flow and the look-ups the tests of a run resumed mid-map share (faults, agent)."""

from __future__ import annotations

import time

from weir.client import Client

ITEMS = 10

#: Each child appends its map index to ``ran.txt`` beside the script, then sleeps;
#: the reduce writes the list it got to ``total.txt``.
SLOW_MAP = f"""
import time
from pathlib import Path
from weir import Flow, task

HERE = Path(__file__).parent

@task
def items():
    return list(range({ITEMS}))

@task
def work(x):
    with (HERE / "ran.txt").open("a") as f:
        f.write(f"{{x}}\\n")
    time.sleep(0.4)
    return x * 10

@task
def total(xs):
    (HERE / "total.txt").write_text(repr(xs))
    return sum(xs)

with Flow("slow-map") as flow:
    total(work.map(items()))
"""


def finished_children(client: Client, run_id: object) -> set[int]:
    """The map indexes of the slow map's children the server holds Success."""
    return {
        t.map_index
        for t in client.list_task_runs(run_id)
        if t.task_slug == "work-1" and t.map_index >= 0 and t.state.type.value == "Success"
    }


def settled_children(client: Client, run_id: object) -> set[int]:
    """``finished_children`` once a batch sent just before the process died is in too.

    A batch may still be on its way to the server when its sender is killed: read
    until two reads a moment apart agree.
    """
    before = finished_children(client, run_id)
    while True:
        time.sleep(0.3)
        now = finished_children(client, run_id)
        if now == before:
            return now
        before = now
