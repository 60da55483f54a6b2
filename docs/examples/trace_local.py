# docs: output varies
"""One local run, watched through the engine's reporter: every trace event and state.

``flow.run()`` reports to an ``InMemoryReporter``; under an agent the same events
go to the server, and ``weir flow-run trace ID`` prints them.
"""

from __future__ import annotations

import datetime

from weir import Flow, Parameter, task, unmapped
from weir.engine.reporter import InMemoryReporter

attempts = 0


@task(max_retries=1, retry_delay=datetime.timedelta(seconds=0.05))
def extract(n: int) -> list[int]:
    global attempts
    attempts += 1
    if attempts == 1:
        raise ConnectionError("source timed out")  # the first attempt fails
    return list(range(n))


@task
def transform(x: int, factor: int) -> int:
    return x * factor


@task
def load(xs: list[int]) -> int:
    return sum(xs)


with Flow("etl") as flow:
    n = Parameter("n", default=3)
    total = load(transform.map(extract(n), factor=unmapped(10)))

reporter = InMemoryReporter()
state = flow.run(reporter=reporter)
print(state, state.result[total].result)

print("\ntrace events:")
t0 = reporter.events[0][0]
for ts, kind, slug, map_index, data in reporter.events:
    where = "" if slug is None else slug + ("" if map_index is None else f"[{map_index}]")
    shown = {k: v for k, v in (data or {}).items() if k != "start_time"}
    print(f"  +{ts - t0:.4f}s  {kind:<21} {where:<15} {shown or ''}")

print("\nstate history per task run:")
for (slug, map_index), states in reporter.task_states.items():
    where = slug + ("" if map_index is None else f"[{map_index}]")
    print(f"  {where:<15} {' -> '.join(s.name for s in states)}")
print(f"  {'(flow run)':<15} {' -> '.join(s.name for s in reporter.flow_states)}")
