"""A target: a task whose result file exists is not run again (a cross-process cache)."""

from __future__ import annotations

import tempfile

from weir import Flow, task
from weir.engine.results import LocalResult

results = LocalResult(dir=tempfile.mkdtemp())
runs = 0


@task(target="{flow_name}/{task_name}.pickle", checkpoint=True, result=results)
def expensive() -> list[int]:
    global runs
    runs += 1
    return [1, 2, 3]


with Flow("targets") as flow:
    data = expensive()

for attempt in (1, 2):
    state = flow.run()
    s = state.result[data]
    print(f"run {attempt}: {s.name:<7} result={s.result} function ran {runs} time(s)")
