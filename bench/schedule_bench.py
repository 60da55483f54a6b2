"""Reading and writing stored schedules, alone and inside the scheduler service's pass.

The scheduler reads each scheduled flow's stored schedule (``Schedule.deserialize``)
when the flow needs runs; registration writes one (``serialize``) and reads it back.

1. Per call, best of ``--repeat``: deserialize and serialize of the stored fixtures
   of every clock, filter and adjustment kind (tests/schedules/fixtures/stored_v1.json).
2. One scheduler pass (``Scheduler.run_once``) over ``--flows`` flows on SQLite, each
   with a schedule from the fixtures, making up to 3 runs each: what a user waits on.

Compare two trees by running this script with each on PYTHONPATH, alternating.

    python bench/schedule_bench.py [--repeat 7] [--flows 200]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from weir.schedules import Schedule

FIXTURES = Path(__file__).parent.parent / "tests" / "schedules" / "fixtures" / "stored_v1.json"
CALLS = 100
T0 = 1_709_251_200.0  # 2024-03-01: the fixtures' schedules all have runs after it


def best(repeat: int, run: Callable[[], Any], calls: int = CALLS) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        times.append((time.perf_counter() - start) / calls)
    return min(times)


def scheduler_pass(datas: list[dict[str, Any]], flows: int) -> float:
    from weir.server.services.scheduler import Scheduler
    from weir.server.settings import SchedulerSettings
    from weir.server.testing import store_flow_unchecked, temporary_database

    with temporary_database("sqlite") as db:
        for i in range(flows):
            schedule = datas[i % len(datas)]
            # The flow declares the parameters its schedule's clocks give.
            names = {n for c in schedule["clocks"] for n in c.get("parameter_defaults") or {}}
            parameters = [{"name": n, "required": False} for n in sorted(names)]
            flow = {"name": f"f{i}", "parameters": parameters, "schedule": schedule}
            store_flow_unchecked(db, flow)
        scheduler = Scheduler(db, SchedulerSettings(max_runs=3), clock=lambda: T0)
        start = time.perf_counter()
        made = scheduler.run_once()
        assert made > flows and not scheduler.failing, (made, scheduler.failing)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--flows", type=int, default=200)
    args = parser.parse_args()
    stored = json.loads(FIXTURES.read_text())["schedules"]
    # Schedules whose runs are never due (no clocks) make no runs: leave them out of the pass.
    datas = [json.loads(e["text"]) for e in stored.values() if e["next"]]
    schedules = [Schedule.deserialize(data) for data in datas]

    read = best(args.repeat, lambda: [Schedule.deserialize(d) for d in datas])
    write = best(args.repeat, lambda: [s.serialize() for s in schedules])
    n = len(datas)
    print(
        f"per stored schedule ({n} kinds): deserialize {read / n * 1e6:7.1f} µs, "
        f"serialize {write / n * 1e6:7.1f} µs"
    )
    passes = [scheduler_pass(datas, args.flows) for _ in range(max(1, args.repeat // 2))]
    print(
        f"scheduler pass over {args.flows} flows: {min(passes) * 1e3:7.1f} ms "
        f"({min(passes) / args.flows * 1e6:.0f} µs a flow)"
    )


if __name__ == "__main__":
    main()
