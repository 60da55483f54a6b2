"""The execution path end to end: a real server and a real agent, on loopback.

Prints, in one run:
  - scheduled-to-running latency with an idle agent: from a run's creation to
    its Running state, both as the server recorded them (median of --runs, one
    second apart, so that the agent is idle when each is created);
  - trigger-to-final time of a 1-task flow (median of --runs);
  - per-task time of a 1,000-task flow run under the agent, two ways: on the
    task path (the flow-run process's own clock, from ``flow_run_started`` to the
    last task's final state: what the engine spends with the API reporter on), and
    until the server holds every record (by the server's clock, from when it
    recorded the run Running to when it recorded the final state, which the
    process writes only after every task run, log line and trace event has been
    sent and acknowledged), each beside the same flow under ``flow.run()`` here.

    (The state timestamps are the engine's: a final state is stamped before the
    reporter's last flush, so they cannot say when the server had everything.)
    The server answers a task-run batch once it has validated and stored it
    (``wait=false``), and writes its task runs into their table before anything
    reads them, once batches stop coming for 50 ms, or at once when the run
    ends. A third figure says when that was (the last task run's ``updated``,
    server clock), and how long after the run's end (its final state), beside the
    whole local run;
  - the server's CPU time over each 1,000-task run (all its threads, those that
    ended too, read from the process's CPU clock on Linux, from the run's creation
    until the bench saw it final and read one log line, which writes any stored
    batch first), per task: what the run costs the server, the part of the
    end-to-end figure no client-side change can remove. Its threads overlap
    (SQLite works outside the GIL) and the window holds the bench's last poll wait,
    so it can exceed the end-to-end figure; it is not a bound on it. Beside it, a
    1-task run's whole server CPU (median of --runs) spread over 1,000 tasks: the
    part of that figure every run pays whatever its size (its requests, claim,
    states, trace, the bench's own reads while it waits).

The server (SQLite under a temporary WEIR_HOME) and the agent are separate
processes started with the `weir` command, as a user would.

    python bench/agent_bench.py [--runs 10] [--big-runs 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from weir.client import Client
from weir.registration import register_flow
from weir.storage import Local
from weir.storage.scripts import flows_in_script

FLOWS = """
from weir import Flow, task

@task
def one():
    return 1

@task
def inc(x):
    return x + 1

with Flow("one-task") as single:
    one()

with Flow("thousand") as thousand:
    x = one()
    for _ in range(999):
        inc(x)
"""


#: Seconds between the single-task runs: an agent's spare process is ready ~0.5 s after
#: it took the last one. Back to back, every other run would start cold.
IDLE_PAUSE = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "weir", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_healthy(client: Client, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.health()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def state_times(client: Client, run_id: Any) -> dict[str, float]:
    """First time the run entered each state, as the server recorded it."""
    times: dict[str, float] = {}
    for item in client.flow_run_states(run_id):
        times.setdefault(item.state.type.value, item.state.timestamp)
    return times


#: Seconds between the bench's reads of a run it waits for. Every read takes the
#: server's one core from the run being measured (several ms while a batch is
#: written), so the bench reads about as often as the UI does, not 20 times a second.
POLL = 0.5


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used so far, all its threads, those ended too (Linux only).

    Read from the process's CPU-time clock (clock id ``(~pid << 3) | 2``, as glibc's
    clock_getcpuclockid makes it): summing /proc/PID/task/*/schedstat lost the time
    of threads that ended in between (the server's idle worker threads do), and
    could even go backwards.
    """
    try:
        return time.clock_gettime((~pid << 3) | 2)
    except OSError:
        return None


def run_and_time(
    client: Client, flow_id: Any, poll: float = POLL, server_pid: int | None = None
) -> dict[str, float]:
    # Times come from the server's records, so polling slowly loses nothing and keeps
    # this process from loading the server while the run goes.
    cpu_before = cpu_seconds(server_pid) if server_pid else None
    run = client.create_flow_run(flow_id=flow_id)
    final = client.wait_for_flow_run(run.id, poll=poll, timeout=120)
    # The run's task runs written, if the writer thread has not yet: in the window.
    client.get_logs(run.id, limit=1)
    cpu_after = cpu_seconds(server_pid) if server_pid else None
    assert final.state.type.value == "Success", final.state
    times = state_times(client, run.id)
    trace = client.get_trace(run.id)
    started = min(e.timestamp for e in trace if e.kind == "flow_run_started")
    # The engine stamps each task's final state when the task ends, in its own process.
    task_runs = client.list_task_runs(run.id, limit=10_000)
    last_task = max(t.state.timestamp for t in task_runs)
    return {
        "to_running": times["Running"] - run.created,
        "to_final": times["Success"] - run.created,
        "running_to_final": times["Success"] - times["Running"],
        # Server clock: Running recorded -> final state recorded (after the last flush).
        "server_running_to_final": final.ended_at - final.started_at,
        "task_path": last_task - started,
        # Server clock: Running recorded -> the last task run written into its table.
        "rows_written": max(t.updated for t in task_runs) - final.started_at,
        # Server clock: the final state recorded -> the last task run in its table.
        "rows_after_end": max(t.updated for t in task_runs) - final.ended_at,
        # The server's CPU for the whole run: creating, claiming, every batch, the
        # bench's few reads while it waits (about a millisecond each).
        "server_cpu": (cpu_after - cpu_before) if cpu_before and cpu_after else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument(
        "--big-runs", type=int, default=5, help="1,000-task runs (each beside one flow.run())"
    )
    ap.add_argument(
        "--agent-arg",
        action="append",
        default=[],
        help="an extra option for `weir agent start` (repeatable), e.g. --agent-arg=--no-prestart",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="weir-bench-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    env = {**os.environ, "WEIR_HOME": str(tmp / "home"), "WEIR_API_URL": url}
    script = tmp / "flows.py"
    script.write_text(textwrap.dedent(FLOWS))
    server = start(["server", "start", "--port", str(port), "--log-level", "warning"], env)
    agent = None
    try:
        client = Client(url)
        wait_healthy(client)
        agent = start(["agent", "start", "--name", "bench-agent", *args.agent_arg], env)
        flows = flows_in_script(script)
        ids = {}
        for name, flow in flows.items():
            ids[name] = register_flow(flow, client=client, storage=Local(path=script)).flow_id
        run_and_time(client, ids["one-task"])  # warm up: the agent's first process
        singles = []
        for _ in range(args.runs):
            # Idle: the agent has had the time to start its spare process (and the
            # spare its imports) since the run before, as between runs of a real day.
            time.sleep(IDLE_PAUSE)
            singles.append(run_and_time(client, ids["one-task"], server_pid=server.pid))
        # Interleaved, so that both sides of each ratio see the machine in the same phase
        # (its speed can change by half within a minute); the best of each is kept.
        big, local = [], []
        for _ in range(args.big_runs):
            big.append(run_and_time(client, ids["thousand"], server_pid=server.pid))
            t0 = time.perf_counter()
            assert flows["thousand"].run().is_successful()
            local.append(time.perf_counter() - t0)
    finally:
        for proc in (agent, server):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)

    per_task_agent = min(b["server_running_to_final"] for b in big) / 1000 * 1e6
    per_task_path = min(b["task_path"] for b in big) / 1000 * 1e6
    per_task_local = min(local) / 1000 * 1e6
    server_cpu = min(b["server_cpu"] for b in big) / 1000 * 1e6
    table = Table(title="weir execution path: server + local agent on loopback (SQLite)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row(
        "scheduled → running, idle agent (median ms)",
        f"{statistics.median(s['to_running'] for s in singles) * 1e3:.0f}",
        "≤ 200",
    )
    table.add_row(
        "trigger → final, 1-task flow (median ms)",
        f"{statistics.median(s['to_final'] for s in singles) * 1e3:.0f}",
        "≤ 1000",
    )
    table.add_row("same 1,000-task flow, flow.run() here, µs/task", f"{per_task_local:.1f}", "")
    table.add_row("under the agent, task path, µs/task", f"{per_task_path:.1f}", "")
    table.add_row("  ratio to local", f"{per_task_path / per_task_local:.1f}×", "≤ 3×")
    table.add_row(
        "under the agent, until the server has it all, µs/task", f"{per_task_agent:.1f}", ""
    )
    table.add_row("  ratio to local", f"{per_task_agent / per_task_local:.1f}×", "≤ 3×")
    table.add_row(
        "  until its task runs are in their table, µs/task",
        f"{min(b['rows_written'] for b in big) / 1000 * 1e6:.1f}",
        "",
    )
    # The task runs' last writes after the run's end (its final state), beside the
    # whole local run: how long after a run a reader of its task runs waits, at most.
    after_end = statistics.median(b["rows_after_end"] for b in big)
    table.add_row("  after the run's end (median ms)", f"{after_end * 1e3:.1f}", "")
    table.add_row("  ratio to the whole local run", f"{after_end / min(local):.1f}×", "≤ 2×")
    # What the run cost the server, all threads, for the whole run (see the docstring).
    table.add_row("server CPU per task run, µs", f"{server_cpu:.1f}", "≤ 25")
    table.add_row("  ratio to local", f"{server_cpu / per_task_local:.1f}×", "")
    # A 1-task run's whole cost: what every run pays the server whatever its size (its
    # requests, claim, states, trace, the bench's reads), spread over 1,000 above.
    per_run = statistics.median(s["server_cpu"] for s in singles) * 1e3
    table.add_row("  of which a 1-task run's whole cost / 1,000, µs", f"{per_run:.1f}", "")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
