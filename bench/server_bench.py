"""Benchmark the weir server on SQLite and PostgreSQL, through a real uvicorn on loopback.

Prints, per database:
- task-run state writes per second through ``POST /task_runs/batch``
  (target >= 20,000/s), beside its baseline: the same rows written straight
  through the database driver, in one transaction per batch, into a table of
  ``task_run``'s shape (executemany; COPY for PostgreSQL's inserts), measured
  in the same run: what the database alone costs. Once from one writer (one
  flow run's batches, each sent when the last is answered), once from two
  processes at once, each with its flow run (and two driver connections for
  the baseline): a server serves many runs at once, and while one batch is in
  the database the server can read the next;
- claim latency: from creating a run to an agent's waiting long poll
  answering with it (target <= 50 ms median);
- start-to-healthy: from launching ``weir server start`` on a new database to
  the first 200 from ``/api/v1/health`` (target <= 1.5 s).

Run: ``python bench/server_bench.py [--sqlite-only] [--writes 40000]``.
PostgreSQL is taken from WEIR_TEST_POSTGRES_URL (default: postgres@127.0.0.1/test).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, text

from weir.schemas import jsontext
from weir.server.models.task_runs import TASK_RUN_NAMESPACE
from weir.server.testing import POSTGRES_URL, free_port, postgres_available, wait_healthy

BATCH = 1000
_JSON = {"content-type": "application/json"}


@contextmanager
def server_process(backend: str) -> Iterator[tuple[str, float]]:
    """Start `weir server start` on a brand-new database; yield (api url, seconds to healthy)."""
    port = free_port()
    env = dict(os.environ)
    schema = None
    with tempfile.TemporaryDirectory(prefix="weir-bench-") as home:
        env["WEIR_HOME"] = home
        if backend == "sqlite":
            env.pop("WEIR_DATABASE_URL", None)
        else:
            schema = f"weir_bench_{uuid.uuid4().hex[:10]}"
            env["WEIR_DATABASE_URL"] = POSTGRES_URL
            env["WEIR_DATABASE_SCHEMA"] = schema
        command = [
            sys.executable,
            "-c",
            "from weir.cli.main import cli; cli()",
            "server",
            "start",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        url = f"http://127.0.0.1:{port}/api/v1"
        try:
            wait_healthy(process, url, interval=0.005)
            yield url, time.perf_counter() - started
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(30)
            if schema:
                engine = create_engine(POSTGRES_URL)
                with engine.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                engine.dispose()


def _new_run(http: httpx.Client) -> str:
    flow = http.post("/flows", json={"serialized_flow": {"name": f"bench-{uuid.uuid4().hex}"}})
    flow_id = flow.json()["flow"]["id"]
    return str(http.post("/flow_runs", json={"flow_id": flow_id}).json()["id"])


def task_run_writes_per_second(
    url: str, writes: int, writers: int = 1, *, wait: bool = True
) -> float:
    """Writes through the batch endpoint: each task run is created Running, then set Success.

    With several ``writers``, each is a process of its own reporting a flow run of its
    own (as runs running side by side do), all starting together: the rate is every
    write over the time from the first batch sent to the last one answered. Not
    ``wait``: the batches go as the engine sends them (stored, answered 202, written
    by the server's writer thread), and the time runs until a read of the last task
    run, which the server answers only once every batch before it is written, finds
    it Success.
    """
    if writers == 1:
        return _rate([_send_batches(url, writes, wait=wait)])
    start_at = time.time() + 1.0  # each writer builds its batches first
    with ProcessPoolExecutor(writers) as pool:
        share = writes // writers
        spans = pool.map(_send_batches, [url] * writers, [share] * writers, [start_at] * writers)
        return _rate(list(spans))


def _rate(spans: list[tuple[float, float, int]]) -> float:
    """Writes a second from each writer's (began, ended, writes done)."""
    began, ended = min(s[0] for s in spans), max(s[1] for s in spans)
    return sum(s[2] for s in spans) / (ended - began)


def _wait_until(start_at: float | None) -> None:
    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))


def _send_batches(
    url: str, writes: int, start_at: float | None = None, *, wait: bool = True
) -> tuple[float, float, int]:
    """One writer's batches for a new flow run of its own: (began, ended, writes done)."""
    with httpx.Client(base_url=url + "/", timeout=120) as http:
        run_id = _new_run(http)
        tasks = writes // 2
        batches = []
        for kind in ("Running", "Success"):
            for start in range(0, tasks, BATCH):
                batches.append(
                    [
                        {
                            "flow_run_id": run_id,
                            "task_slug": "work-1",
                            "map_index": i,
                            "state": {"type": kind, "timestamp": time.time()},
                        }
                        for i in range(start, min(start + BATCH, tasks))
                    ]
                )
        http.post("task_runs/batch", json=batches[0][:1])  # warm up connection and caches
        _wait_until(start_at)
        began = time.time()
        done = 0
        for batch in batches:
            # Encoded as weir's client encodes a batch (orjson): the figure is the
            # server's, not the standard library's JSON encoder's in this process.
            response = http.post(
                "task_runs/batch",
                content=jsontext.dumps(batch),
                headers=_JSON,
                params=None if wait else {"wait": "false"},
            )
            response.raise_for_status()
            if wait:
                done += sum(1 for item in response.json() if item["accepted"])
        if not wait:
            done = _written(http, run_id, tasks)
        ended = time.time()
    assert done >= 2 * tasks - 2, f"only {done} of {2 * tasks} writes were accepted"
    return began, ended, done


def _written(http: httpx.Client, run_id: str, tasks: int) -> int:
    """The writes of a run's stored batches, once the server has written them all: it
    writes every stored batch before it answers a read of a task run."""
    last = uuid.uuid5(TASK_RUN_NAMESPACE, f"{run_id}/work-1/{tasks - 1}")
    task_run = http.get(f"task_runs/{last}")
    task_run.raise_for_status()
    state = task_run.json()
    assert (state["version"], state["state"]["type"]) == (2, "Success"), state
    return 2 * tasks


_FLOOR_TABLE = """CREATE {temp} TABLE floor_task_run (
    id CHAR(36) PRIMARY KEY, flow_run_id CHAR(36) NOT NULL, task_slug VARCHAR(500) NOT NULL,
    map_index INTEGER NOT NULL, state_type VARCHAR(20) NOT NULL, state_timestamp FLOAT NOT NULL,
    version INTEGER NOT NULL, history TEXT NOT NULL, created FLOAT NOT NULL,
    updated FLOAT NOT NULL, UNIQUE (flow_run_id, task_slug, map_index))"""


_PG_UPDATE = """UPDATE floor_task_run AS t SET state_type = u.s, state_timestamp = u.ts,
    version = u.v, history = u.h, updated = u.up
    FROM unnest(%s::text[], %s::float8[], %s::int[], %s::text[], %s::float8[], %s::text[])
    AS u(s, ts, v, h, up, id) WHERE t.id = u.id"""


def driver_writes_per_second(backend: str, writes: int, writers: int = 1) -> float:
    """The baseline: the same task-run rows written straight through the driver.

    Each task run is inserted Running, then updated to Success, in batches of
    ``BATCH`` rows, one transaction each, as the server's writes are; with the
    server's SQLite settings (WAL, synchronous=NORMAL). Several ``writers`` are
    processes with a connection each, all starting together, into one SQLite file
    (PostgreSQL: a temporary table each).
    """
    with tempfile.TemporaryDirectory(prefix="weir-bench-") as home:
        url = f"sqlite:///{home}/floor.db" if backend == "sqlite" else POSTGRES_URL
        if backend == "sqlite":
            _driver_session(url, lambda raw: _floor_table(backend, raw))
        if writers == 1:
            return _rate([_driver_writes(backend, url, writes)])
        start_at = time.time() + 1.0
        with ProcessPoolExecutor(writers) as pool:
            share = writes // writers
            n = writers
            spans = pool.map(_driver_writes, [backend] * n, [url] * n, [share] * n, [start_at] * n)
            return _rate(list(spans))


def _driver_session(url: str, work: Any) -> Any:
    """``work(raw driver connection)``'s result, on a connection of its own."""
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        return work(raw)
    finally:
        raw.close()
        engine.dispose()


def _floor_table(backend: str, raw: Any) -> None:
    cursor = raw.cursor()
    if backend == "sqlite":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(_FLOOR_TABLE.format(temp="TEMP" if backend != "sqlite" else ""))
    raw.commit()


def _driver_writes(
    backend: str, url: str, writes: int, start_at: float | None = None
) -> tuple[float, float, int]:
    return _driver_session(url, lambda raw: _write_floor(backend, raw, writes, start_at))


def _write_floor(
    backend: str, raw: Any, writes: int, start_at: float | None
) -> tuple[float, float, int]:
    cursor = raw.cursor()
    if backend == "sqlite":
        cursor.execute("PRAGMA synchronous=NORMAL")
    else:
        _floor_table(backend, raw)  # temporary: one per connection
    run_id = str(uuid.uuid4())
    tasks = writes // 2
    ids = [str(uuid.uuid4()) for _ in range(tasks)]
    update = (
        "UPDATE floor_task_run SET state_type = ?, state_timestamp = ?, "
        "version = ?, history = ?, updated = ? WHERE id = ?"
    )
    columns = "id, flow_run_id, task_slug, map_index, state_type, state_timestamp, version, "
    columns += "history, created, updated"
    _wait_until(start_at)
    began = time.time()
    for kind in ("Running", "Success"):
        for start in range(0, tasks, BATCH):
            now = time.time()
            history = orjson.dumps([{"version": 1, "state": {"type": kind, "timestamp": now}}])
            if kind == "Running":
                rows = [
                    (ids[i], run_id, "work-1", i, kind, now, 1, history.decode(), now, now)
                    for i in range(start, min(start + BATCH, tasks))
                ]
                if backend == "sqlite":
                    marks = ", ".join("?" * 10)
                    cursor.executemany(f"INSERT INTO floor_task_run VALUES ({marks})", rows)
                else:
                    with cursor.copy(f"COPY floor_task_run ({columns}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                changes = [
                    (kind, now, 2, history.decode(), now, ids[i])
                    for i in range(start, min(start + BATCH, tasks))
                ]
                if backend == "sqlite":
                    cursor.executemany(update, changes)
                else:
                    # One statement for the batch: its columns as arrays.
                    cursor.execute(_PG_UPDATE, [list(c) for c in zip(*changes, strict=True)])
            raw.commit()
    return began, time.time(), 2 * tasks


def _one_claim(agent: httpx.Client, user: httpx.Client, flow_id: str) -> float:
    """Start a long poll, create a run, and time how long the poll takes to answer with it."""
    answered: list[float] = []
    claimed: list[str] = []
    ready = threading.Event()

    def poll() -> None:
        ready.set()
        runs = agent.post("work/claim", json={"wait": 10}).json()
        answered.append(time.perf_counter())
        claimed.extend(r["id"] for r in runs)

    poller = threading.Thread(target=poll)
    poller.start()
    ready.wait()
    time.sleep(0.05)  # let the long poll reach the server and start waiting
    created = time.perf_counter()
    run = user.post("flow_runs", json={"flow_id": flow_id})
    poller.join(30)
    if claimed != [run.json()["id"]]:
        raise RuntimeError(f"The long poll returned {claimed}, not the new run.")
    return answered[0] - created


def claim_latencies(url: str, rounds: int) -> list[float]:
    """Seconds from sending a new run's creation to a waiting long poll returning it."""
    with (
        httpx.Client(base_url=url + "/", timeout=60) as agent,
        httpx.Client(base_url=url + "/", timeout=60) as user,
    ):
        flow = user.post("flows", json={"serialized_flow": {"name": "claim-bench"}})
        flow_id = flow.json()["flow"]["id"]
        while agent.post("work/claim", json={"limit": 1000}).json():
            pass  # take what earlier benchmarks left due, so each poll waits for its own run
        return [_one_claim(agent, user, flow_id) for _ in range(rounds)]


#: Flow runs reporting side by side in the second write figure.
WRITERS = 2


def bench(backend: str, writes: int, rounds: int, starts: int) -> None:
    start_times = []
    for i in range(starts):
        with server_process(backend) as (url, seconds):
            start_times.append(seconds)
            if i == 0:
                rate = task_run_writes_per_second(url, writes)
                rates = task_run_writes_per_second(url, writes, WRITERS)
                stored = task_run_writes_per_second(url, writes, wait=False)
                latencies = claim_latencies(url, rounds)
    floor = driver_writes_per_second(backend, writes)
    floors = driver_writes_per_second(backend, writes, WRITERS)
    latencies.sort()
    print(f"[{backend}]")
    print(
        f"  task-run state writes, batches of {BATCH}: {rate:,.0f}/s ({writes:,} writes; "
        f"target >= 20,000/s); baseline, the same rows through the driver: {floor:,.0f}/s "
        f"(ratio {rate / floor:.2f})"
    )
    print(
        f"  the same from {WRITERS} flow runs reporting at once: {rates:,.0f}/s; "
        f"baseline, {WRITERS} driver connections at once: {floors:,.0f}/s "
        f"(ratio {rates / floors:.2f})"
    )
    print(
        f"  the same from one writer as the engine sends them (wait=false: stored, then "
        f"written by the server's writer thread), until the last is in its table: "
        f"{stored:,.0f}/s (ratio {stored / floor:.2f})"
    )
    print(
        f"  claim latency (create -> long poll answers), {rounds} rounds: "
        f"median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p90 {latencies[int(len(latencies) * 0.9)] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms"
    )
    print(
        f"  start to healthy on a new database, {starts} starts: "
        f"median {statistics.median(start_times):.2f} s, max {max(start_times):.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    bench("sqlite", args.writes, args.rounds, args.starts)
    if args.sqlite_only:
        return
    if postgres_available():
        bench("postgresql", args.writes, args.rounds, args.starts)
    else:
        print("[postgresql] skipped: not reachable (set WEIR_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
