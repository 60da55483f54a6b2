"""Benchmark ``weir server start`` to healthy on a new SQLite database.

Launches, alternately, ``weir server start`` on a brand-new database and a baseline:
the smallest server of the same stack (uvicorn, FastAPI and SQLAlchemy imported, one
``/health`` route answering ``SELECT 1`` on SQLite). For each it times the first 200
from ``/health`` after the launch, in wall seconds and in CPU seconds of the server
process (user + system, read from /proc at that moment: on a loaded machine the CPU
figure moves far less than the wall one). Target: weir healthy in under 1 s.

On a two-core machine, median of 7: weir 0.59-0.64 s wall, 0.57 s CPU; the baseline
0.41-0.54 s, 0.40 s CPU (weir was 0.83-0.99 s, 0.80 s CPU, before each route was built
once and the server stopped importing what no request at start needs).

Run: ``python bench/server_start_bench.py [--starts 7]``.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from weir.server.testing import free_port, wait_healthy

BYTECODE = tempfile.mkdtemp(prefix="weir-start-bytecode-")

BASELINE = """
import sys
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, text

engine = create_engine("sqlite:///" + sys.argv[2])
app = FastAPI()

@app.get("/api/v1/health")
def health() -> dict:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok"}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(weir: bool) -> tuple[float, float]:
    """Launch one server on a new database; (wall, CPU) seconds until it is healthy."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="weir-start-") as home:
        env = {**os.environ, "WEIR_HOME": home, "PYTHONPYCACHEPREFIX": BYTECODE}
        # Bytecode kept, as an installed wheel has it (the first launch writes it).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("WEIR_DATABASE_URL", None)
        if weir:
            command = [sys.executable, "-c", "from weir.cli.main import cli; cli()", "server"]
            command += ["start", "--port", str(port), "--log-level", "warning"]
        else:
            command = [sys.executable, "-c", BASELINE, str(port), f"{home}/base.db"]
        began = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        try:
            wait_healthy(process, f"http://127.0.0.1:{port}/api/v1", interval=0.005)
            return time.perf_counter() - began, _cpu_seconds(process.pid)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=7)
    args = parser.parse_args()
    found: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    start(True)  # the first launches write the bytecode and fill the OS's file cache
    start(False)
    for _ in range(args.starts):
        for weir in (True, False):
            found[weir].append(start(weir))
    print(f"start to healthy on a new SQLite database, median of {args.starts}:")
    for weir, label in ((True, "weir server start"), (False, "baseline (same stack, 1 route)")):
        wall = statistics.median(w for w, _ in found[weir])
        cpu = statistics.median(c for _, c in found[weir])
        print(f"  {label:<32} wall {wall:5.2f} s   CPU {cpu:5.2f} s")


if __name__ == "__main__":
    main()
