"""What each kind of request a flow run makes costs the server's CPU, beside a baseline.

Starts ``weir server start`` on a new SQLite database and, beside it, the smallest
server on the same stack (uvicorn, FastAPI, SQLAlchemy; one ``/health`` route
answering ``SELECT 1``: ``server_start_bench.BASELINE``). Sends ``--requests`` of
each kind one after the other on one connection and prints the server process's
CPU per request (user + system, from its CPU clock), and the wall time. A run's
process, its agent and a watcher make about a dozen of these per flow run.

Run: ``python bench/request_cost_bench.py [--requests 200]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from agent_bench import FLOWS, cpu_seconds, free_port
from server_start_bench import BASELINE

from weir.client import Client
from weir.registration import register_flow
from weir.server.testing import wait_healthy
from weir.storage import Local
from weir.storage.scripts import flows_in_script


def _serve(command: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    wait_healthy(process, url)
    return process


def _cost(pid: int, send: Callable[[], object], n: int) -> tuple[float, float]:
    """(server CPU ms, wall ms) per request, after a few unmeasured ones."""
    for _ in range(5):
        send()
    cpu, began = cpu_seconds(pid), time.perf_counter()
    for _ in range(n):
        send()
    return ((cpu_seconds(pid) or 0) - (cpu or 0)) / n * 1e3, (time.perf_counter() - began) / n * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=200, help="of each kind")
    n = ap.parse_args().requests
    tmp = Path(tempfile.mkdtemp(prefix="weir-request-bench-"))
    env = {**os.environ, "WEIR_HOME": str(tmp / "home")}
    env.pop("WEIR_DATABASE_URL", None)
    base_port, port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{base_port}/api/v1"
    url = f"http://127.0.0.1:{port}/api/v1"
    command = [sys.executable, "-m", "weir", "server", "start", "--port", str(port)]
    server = _serve([*command, "--log-level", "warning"], env, url)
    baseline = _serve(
        [sys.executable, "-c", BASELINE, str(base_port), str(tmp / "base.db")], env, base_url
    )
    rows: list[tuple[str, float, float]] = []
    try:
        with httpx.Client(base_url=base_url) as http:
            health = _cost(baseline.pid, lambda: http.get("/health"), n)
            rows.append(("baseline: GET /health", *health))
        script = tmp / "flows.py"
        script.write_text(textwrap.dedent(FLOWS))
        flows = flows_in_script(script)
        with Client(url) as client:
            ids = {
                name: str(register_flow(f, client=client, storage=Local(path=script)).flow_id)
                for name, f in flows.items()
            }
        with httpx.Client(base_url=url) as http:
            run = http.post("/flow_runs", json={"flow_id": ids["one-task"]}).json()["id"]
            agent = http.post("/agents", json={"name": "bench"}).json()["id"]
            big = ids["thousand"]
            kinds: list[tuple[str, str, str, object]] = [
                ("GET /health", "GET", "/health", None),
                ("GET /flow_runs/{id}", "GET", f"/flow_runs/{run}", None),
                ("GET /flows/{id}?full=false", "GET", f"/flows/{big}?full=false", None),
                ("GET /flows/{id} (1,000 tasks)", "GET", f"/flows/{big}", None),
                ("GET /flow_runs/{id}/logs", "GET", f"/flow_runs/{run}/logs?limit=1", None),
                (
                    "POST /work/claim (nothing due)",
                    "POST",
                    "/work/claim",
                    {"agent_id": agent, "labels": ["none"], "wait": 0},
                ),
                ("POST /work/runs", "POST", "/work/runs", {"flow_run_ids": [run]}),
                (
                    "POST /trace/batch (1 event)",
                    "POST",
                    "/trace/batch",
                    [{"flow_run_id": run, "kind": "flow_loaded", "timestamp": time.time()}],
                ),
                (
                    "POST /flow_runs (1-task flow)",
                    "POST",
                    "/flow_runs",
                    {"flow_id": ids["one-task"]},
                ),
                ("POST /flow_runs (1,000-task flow)", "POST", "/flow_runs", {"flow_id": big}),
            ]
            for name, method, path, body in kinds:
                send = functools.partial(http.request, method, path, json=body)
                rows.append((name, *_cost(server.pid, send, n)))
    finally:
        for process in (server, baseline):
            process.terminate()
            process.wait(timeout=30)
    table = Table(title=f"server CPU per request, SQLite, {n} of each, one connection")
    for column in ("request", "server CPU ms", "wall ms", "CPU / baseline"):
        table.add_column(column, justify="left" if column == "request" else "right")
    base_cpu = rows[0][1]
    for name, cpu, wall in rows:
        table.add_row(name, f"{cpu:.2f}", f"{wall:.2f}", f"{cpu / base_cpu:.1f}×")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
