"""Short runs through one local agent: one-task flow runs a second, fork server vs spawn.

For each start method (``fork``: the agent's fork server forks a child per run;
``spawn``: a new interpreter per run, with the spare process kept warm), in the
same run of this script:

  - a fresh ``weir server start`` (SQLite under a temporary WEIR_HOME) and one
    ``weir agent start --start-method METHOD --max-runs 10``, as a user would
    start them (without a limit, 1,000 due runs would all be started at once);
  - ``--runs`` runs of a one-task flow created while the agent is not there yet,
    so that the agent finds them all due at once (the backlog of a busy hour);
  - runs/s = runs / (last run's end - first run's start), both by the server's
    clock (its ``started_at``/``ended_at``): the agent's start-up is not counted.

Each run is still its own process: a crash takes down that run only.

With ``--library MODULE`` the flow imports that library first, as real flows
import pandas or a cloud SDK, and the method ``fork+preload`` is the fork server
started with ``--preload MODULE``: every run of plain ``fork`` pays the import,
while a preloaded library is imported once.

    python bench/short_runs_bench.py [--runs 1000] [--methods fork,spawn] [--max-runs 10]
    python bench/short_runs_bench.py --runs 200 --library distributed \
        --methods fork,fork+preload
"""

from __future__ import annotations

import argparse
import os
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from agent_bench import free_port, start, wait_healthy  # the bench beside this one
from rich.console import Console
from rich.table import Table

from weir.client import Client
from weir.registration import register_flow
from weir.state_types import ACTIVE_TYPES, CLAIMABLE_TYPES
from weir.storage import Local
from weir.storage.scripts import flows_in_script

FLOW = """
from weir import Flow, task

@task
def one():
    return 1

with Flow("one-task") as single:
    one()
"""

#: Seconds between the bench's looks at how many runs have ended (it must not load the server).
POLL = 1.0


def all_runs(client: Client) -> list[Any]:
    out: list[Any] = []
    while True:
        page = client.list_flow_runs(limit=1000, offset=len(out))
        out.extend(page)
        if len(page) < 1000:
            return out


def measure(
    method: str, runs: int, timeout: float, max_runs: int, library: str | None = None
) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="weir-short-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    env = {**os.environ, "WEIR_HOME": str(tmp / "home"), "WEIR_API_URL": url}
    script = tmp / "flow.py"
    script.write_text((f"import {library}\n" if library else "") + textwrap.dedent(FLOW))
    server = start(["server", "start", "--port", str(port), "--log-level", "warning"], env)
    agent = None
    try:
        client = Client(url)
        wait_healthy(client)
        flow = flows_in_script(script)["one-task"]
        flow_id = register_flow(flow, client=client, storage=Local(path=script)).flow_id
        for _ in range(runs):
            client.create_flow_run(flow_id=flow_id)
        start_method, _, preload = method.partition("+")
        agent_args = ["agent", "start", "--name", "bench", "--start-method", start_method]
        agent_args += ["--max-runs", str(max_runs)]
        if preload and library:
            agent_args += ["--preload", library]
        agent = start(agent_args, env)
        deadline = time.monotonic() + timeout
        unfinished = [t.value for t in (*CLAIMABLE_TYPES, *ACTIVE_TYPES)]
        # One cheap question a second (is any run not finished?), not a list of them all.
        while client.list_flow_runs(state=unfinished, limit=1):
            if time.monotonic() > deadline:
                break
            time.sleep(POLL)
        found = all_runs(client)
        ended = [r for r in found if r.ended_at is not None]
        states: dict[str, int] = {}
        for r in found:
            states[r.state.type.value] = states.get(r.state.type.value, 0) + 1
        first = min(r.started_at for r in found if r.started_at is not None)
        last = max(r.ended_at for r in ended)
        return {
            "ended": len(ended),
            "success": states.get("Success", 0),
            "seconds": last - first,
            "per_second": len(ended) / (last - first),
        }
    finally:
        for proc in (agent, server):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--methods", default="fork,spawn", help="comma-separated start methods")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per method at most")
    ap.add_argument(
        "--max-runs",
        type=int,
        default=10,
        help="the agent's --max-runs: without a limit, 1,000 due runs would all start at once",
    )
    ap.add_argument(
        "--library",
        default=None,
        help="a module the flow imports first (e.g. distributed); method fork+preload "
        "starts the agent with --preload of it",
    )
    args = ap.parse_args()
    methods = args.methods.split(",")
    results = {m: measure(m, args.runs, args.timeout, args.max_runs, args.library) for m in methods}
    title = f"{args.runs} one-task flow runs, one local agent (--max-runs {args.max_runs}), SQLite"
    if args.library:
        title += f", each flow importing {args.library}"
    table = Table(title=title)
    for column in ("start method", "ended", "Success", "seconds", "runs/s"):
        table.add_column(column, justify="right")
    for method, r in results.items():
        table.add_row(
            method,
            str(r["ended"]),
            str(r["success"]),
            f"{r['seconds']:.1f}",
            f"{r['per_second']:.1f}",
        )
    Console(width=120).print(table)
    if "fork" in results and "spawn" in results:
        ratio = results["fork"]["per_second"] / results["spawn"]["per_second"]
        print(f"fork server / spawn: {ratio:.1f}×  (target: ≥ 10 runs/s with fork)")
    if "fork" in results and "fork+preload" in results:
        ratio = results["fork+preload"]["per_second"] / results["fork"]["per_second"]
        print(f"fork server with --preload {args.library} / without: {ratio:.1f}×")


if __name__ == "__main__":
    main()
