"""Benchmark the server's reads (and a claim) on a big database, through a real HTTP server.

Seeds a database with bulk SQL, not through the API (generate_series on
PostgreSQL, executemany on SQLite), starts ``weir server start --no-services`` on
it and times, per route, ``--rounds`` requests on one keep-alive connection:

- the API's runs list (``GET /flow_runs``) filtered by flow, and by state;
- the runs page's data (``GET /ui/runs``): by flow, by state, both, first page and a
  deep keyset page (the cursor of the run half way down the table);
- the dashboard's data (``GET /ui/dashboard``);
- a run's page: its overview and the first page of its task-run table, for a run
  with 1,000 task runs (``GET /ui/flow_runs/{id}``, ``.../task_runs``);
- a claim of one due run (``POST /work/claim``), and a claim that finds none.

Each line prints p50 and p99 beside the baseline measured in the same run: a trivial
``SELECT 1`` round trip through the same server (``GET /health``). Target: each
route's p99 <= 100 ms with 100,000 flow runs and 10 million task runs on PostgreSQL
(1 million on SQLite).

Run: ``python bench/big_db_bench.py [--backend sqlite|postgresql|both]
[--flow-runs 100000] [--task-runs N] [--rounds 200]``. ``--task-runs`` defaults to
10,000,000 on PostgreSQL and 1,000,000 on SQLite; scale both down for a quick run.
PostgreSQL is taken from WEIR_TEST_POSTGRES_URL; the bench's schema is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import Connection, text

from weir.server.database.engine import Database
from weir.server.testing import (
    free_port,
    postgres_available,
    temporary_database,
    wait_healthy,
)

#: Flows the runs are spread over; one more, "rare", has a run in every RARE_EVERY.
FLOWS = 99
RARE_EVERY = 5_000
#: The seeded runs' creation times span this many days, ending now.
DAYS = 30
#: Due Scheduled runs (the newest runs) for the claims to take, and some running.
DUE = 2_000
RUNNING = 50
#: The task runs of the run whose page is measured.
BIG_RUN_TASKS = 1_000
PAGE = 50
HISTORY = json.dumps(
    [
        {"version": 1, "state": {"type": "Running", "timestamp": 1.0}},
        {"version": 2, "state": {"type": "Success", "timestamp": 2.0, "message": "done"}},
    ]
)


class Seed:
    """Where the seeded rows are and what the measured requests ask for."""

    def __init__(self, flow_runs: int, task_runs: int) -> None:
        self.flow_runs = flow_runs
        self.tasks_per_run = max(task_runs // flow_runs, 0)
        self.now = time.time()
        self.step = DAYS * 86400 / flow_runs
        self.big_run = flow_runs // 2  # a finished run half way down the table

    def created(self, i: int) -> float:
        # Runs come in pairs made at the same instant: paging must break the ties.
        return self.now - DAYS * 86400 + (i // 2) * 2 * self.step

    def state(self, i: int) -> str:
        if i >= self.flow_runs - DUE:
            return "Scheduled"
        if i >= self.flow_runs - DUE - RUNNING:
            return "Running"
        bucket = i % 100
        return "Success" if bucket < 88 else "Failed" if bucket < 98 else "Cancelled"

    def flow(self, i: int) -> int:
        return FLOWS if i % RARE_EVERY == 1 else i % FLOWS


def _flow_id(n: int) -> uuid.UUID:
    return uuid.UUID(int=(0xF10 << 112) + n)


def _run_id(i: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_OID, f"run-{i}")


def _flow_rows(project_id: uuid.UUID, now: float) -> list[dict[str, Any]]:
    graph = {"name": "f", "tasks": [{"slug": f"task-{j}", "name": f"task-{j}"} for j in range(10)]}
    return [
        {
            "id": _flow_id(n),
            "project_id": project_id,
            "name": "rare" if n == FLOWS else f"flow-{n}",
            "graph": json.dumps(graph),
            "now": now,
        }
        for n in range(FLOWS + 1)
    ]


def seed_common(connection: Connection, seed: Seed, uuid_value: Callable[[uuid.UUID], Any]) -> None:
    project_id = uuid.uuid4()
    connection.execute(
        text("INSERT INTO project (id, name, created, updated) VALUES (:id, 'bench', :n, :n)"),
        {"id": uuid_value(project_id), "n": seed.now},
    )
    rows = _flow_rows(project_id, seed.now)
    for row in rows:
        row["id"], row["project_id"] = uuid_value(row["id"]), uuid_value(row["project_id"])
    connection.execute(
        text(
            "INSERT INTO flow (id, project_id, name, version, fingerprint, serialized_flow,"
            " labels, archived, schedule_active, created, updated) VALUES (:id, :project_id,"
            " :name, 1, 'x', :graph, '[]', false, false, :now, :now)"
        ),
        rows,
    )


_RUN_COLUMNS = (
    "id, flow_id, name, parameters, labels, auto_scheduled, scheduled_start_time, start_time,"
    " state_type, state_timestamp, version, run_count, started_at, ended_at,"
    " cancel_requested, lazarus_count, attempt, created, updated"
)
_TASK_COLUMNS = (
    "id, flow_run_id, task_slug, map_index, state_type, state_timestamp, version, history,"
    " started_at, created, updated"
)


def seed_sqlite(connection: Connection, seed: Seed) -> None:
    """Rows made in Python, written with executemany (1M task runs in well under a minute)."""
    seed_common(connection, seed, lambda u: u.hex)
    runs = []
    for i in range(seed.flow_runs):
        created, state = seed.created(i), seed.state(i)
        start = created + 1 if state != "Scheduled" else seed.now - 120
        runs.append(
            (
                _run_id(i).hex,
                _flow_id(seed.flow(i)).hex,
                f"run-{i}",
                "{}",
                "[]",
                0,
                start,
                start,
                state,
                created + 60,
                3,
                1,
                start if state != "Scheduled" else None,
                created + 60 if state in ("Success", "Failed", "Cancelled") else None,
                0,
                0,
                1,
                created,
                created + 60,
            )
        )
    marks = ", ".join("?" * 19)
    raw = connection.connection.driver_connection
    raw.executemany(f"INSERT INTO flow_run ({_RUN_COLUMNS}) VALUES ({marks})", runs)
    del runs

    def tasks() -> Iterator[tuple[Any, ...]]:
        for i in range(seed.flow_runs):
            if seed.state(i) == "Scheduled":
                continue
            yield from _task_rows(seed, i)

    raw.executemany(
        f"INSERT INTO task_run ({_TASK_COLUMNS}) VALUES ({', '.join('?' * 11)})", tasks()
    )


def _task_rows(seed: Seed, i: int) -> Iterator[tuple[Any, ...]]:
    run_id, created = _run_id(i).hex, seed.created(i)
    slugs: Iterator[tuple[str, int]]
    if i == seed.big_run:
        mapped = BIG_RUN_TASKS - 10
        slugs = iter(
            [(f"task-{j}", -1) for j in range(9)]
            + [("mapped-1", -1)]
            + [("mapped-1", k) for k in range(mapped)]
        )
    else:
        slugs = iter((f"task-{j}", -1) for j in range(seed.tasks_per_run))
    for slug, index in slugs:
        yield (uuid.uuid4().hex, run_id, slug, index, "Success", created + 5, 2, HISTORY,
               created + 2, created + 1, created + 5)  # fmt: skip


def seed_postgresql(connection: Connection, seed: Seed) -> None:
    """Rows made by the database (generate_series), task runs without their indexes,
    which are built once at the end (minutes for 10M rows, not hours)."""
    seed_common(connection, seed, lambda u: u)
    n, now, step = seed.flow_runs, seed.now, seed.step
    state = (
        f"CASE WHEN i >= {n - DUE} THEN 'Scheduled' WHEN i >= {n - DUE - RUNNING} THEN 'Running'"
        " WHEN i % 100 < 88 THEN 'Success' WHEN i % 100 < 98 THEN 'Failed' ELSE 'Cancelled' END"
    )
    created = f"({now - DAYS * 86400} + (i / 2) * 2 * {step})"
    flow = f"CASE WHEN i % {RARE_EVERY} = 1 THEN {FLOWS} ELSE i % {FLOWS} END"
    connection.execute(
        text(
            f"CREATE TEMP TABLE bench_runs AS SELECT i, {state} AS state, {created} AS created,"
            f" ('0f10' || lpad(to_hex({flow}), 28, '0'))::uuid AS flow_id"
            f" FROM generate_series(0, {n - 1}) AS i"
        )
    )
    # uuid5 of "run-{i}" is what the SQLite seed uses; the database cannot make it, so
    # the ids are loaded from here (100,000 rows) and joined.
    connection.execute(text("CREATE TEMP TABLE bench_ids (i integer PRIMARY KEY, id uuid)"))
    raw = connection.connection.driver_connection
    with raw.cursor().copy("COPY bench_ids (i, id) FROM STDIN") as copy:
        for i in range(n):
            copy.write_row((i, _run_id(i)))
    connection.execute(
        text(
            f"INSERT INTO flow_run ({_RUN_COLUMNS}) SELECT b.id, r.flow_id, 'run-' || r.i,"
            " '{}', '[]', false,"
            f" CASE WHEN r.state = 'Scheduled' THEN {now - 120} ELSE r.created + 1 END,"
            f" CASE WHEN r.state = 'Scheduled' THEN {now - 120} ELSE r.created + 1 END,"
            " r.state, r.created + 60, 3, 1,"
            " CASE WHEN r.state = 'Scheduled' THEN NULL ELSE r.created + 1 END,"
            " CASE WHEN r.state IN ('Success', 'Failed', 'Cancelled') THEN r.created + 60 END,"
            " false, 0, 1, r.created, r.created + 60"
            " FROM bench_runs r JOIN bench_ids b USING (i)"
        )
    )
    connection.execute(
        text("ALTER TABLE task_run DROP CONSTRAINT fk_task_run_flow_run_id_flow_run")
    )
    connection.execute(text("ALTER TABLE task_run DROP CONSTRAINT pk_task_run"))
    connection.execute(
        text("ALTER TABLE task_run DROP CONSTRAINT uq_task_run_flow_run_id_task_slug_map_index")
    )
    history = HISTORY.replace("'", "''")
    connection.execute(
        text(
            f"INSERT INTO task_run ({_TASK_COLUMNS}) SELECT gen_random_uuid(), b.id,"
            f" 'task-' || j, -1, 'Success', r.created + 5, 2, '{history}', r.created + 2,"
            " r.created + 1, r.created + 5"
            f" FROM bench_runs r JOIN bench_ids b USING (i),"
            f" generate_series(0, {seed.tasks_per_run - 1}) AS j"
            f" WHERE r.state <> 'Scheduled' AND r.i <> {seed.big_run}"
        )
    )
    big = [
        dict(zip(_TASK_COLUMNS.split(", "), row, strict=True))
        for row in _task_rows(seed, seed.big_run)
    ]
    for row in big:
        row["id"], row["flow_run_id"] = uuid.UUID(row["id"]), uuid.UUID(row["flow_run_id"])
    marks = ", ".join(f":{c}" for c in _TASK_COLUMNS.split(", "))
    connection.execute(text(f"INSERT INTO task_run ({_TASK_COLUMNS}) VALUES ({marks})"), big)
    connection.execute(text("ALTER TABLE task_run ADD CONSTRAINT pk_task_run PRIMARY KEY (id)"))
    connection.execute(
        text(
            "ALTER TABLE task_run ADD CONSTRAINT uq_task_run_flow_run_id_task_slug_map_index"
            " UNIQUE (flow_run_id, task_slug, map_index)"
        )
    )
    connection.execute(
        text(
            "ALTER TABLE task_run ADD CONSTRAINT fk_task_run_flow_run_id_flow_run FOREIGN KEY"
            " (flow_run_id) REFERENCES flow_run (id) ON DELETE CASCADE"
        )
    )


@contextmanager
def database(backend: str) -> Iterator[tuple[Database, dict[str, str]]]:
    """A new database at the head schema (removed afterwards); yields it and the
    server's environment."""
    with temporary_database(backend) as db:
        env = {"WEIR_DATABASE_URL": db.url}
        if db.schema is not None:
            env["WEIR_DATABASE_SCHEMA"] = db.schema
        yield db, env


def seed_database(db: Database, backend: str, seed: Seed) -> None:
    with db.write_engine.begin() as connection:
        if backend == "sqlite":
            seed_sqlite(connection, seed)
        else:
            connection.execute(text(f'SET search_path TO "{db.schema}"'))
            seed_postgresql(connection, seed)
    if backend == "postgresql":
        # As autovacuum would have by then. SQLite gets no ANALYZE: weir never runs it,
        # and its plans without statistics are the ones a server's database gets.
        with db.write_engine.begin() as connection:
            connection.execute(text(f'SET search_path TO "{db.schema}"'))
            connection.execute(text("ANALYZE"))


@contextmanager
def server(env_extra: dict[str, str]) -> Iterator[str]:
    """`weir server start --no-services` on the database (services would change its runs)."""
    port = free_port()
    env = {**os.environ, **env_extra, "WEIR_HOME": tempfile.mkdtemp(prefix="weir-bigdb-home-")}
    command = [sys.executable, "-c", "from weir.cli.main import cli; cli()", "server", "start"]
    command += ["--no-services", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        wait_healthy(process, url)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
        shutil.rmtree(env["WEIR_HOME"], ignore_errors=True)


def timed(http: httpx.Client, rounds: int, send: Callable[[], httpx.Response]) -> list[float]:
    send().raise_for_status()  # warm: the route's first call builds its caches
    took = []
    for _ in range(rounds):
        began = time.perf_counter()
        response = send()
        took.append(time.perf_counter() - began)
        response.raise_for_status()
    return sorted(took)


def _p(values: list[float], q: float) -> float:
    return values[min(int(len(values) * q), len(values) - 1)] * 1000


def measure(url: str, seed: Seed, rounds: int) -> list[tuple[str, list[float]]]:
    created = seed.created(seed.flow_runs // 2)
    deep = f"{created!r}_{_run_id(seed.flow_runs // 2)}"
    run = _run_id(seed.big_run)
    results = []
    with httpx.Client(base_url=url + "/", timeout=60) as http:

        def get(path: str, **params: Any) -> Callable[[], httpx.Response]:
            return lambda: http.get(path, params=params)

        routes: list[tuple[str, Callable[[], httpx.Response]]] = [
            ("baseline: GET /health (SELECT 1)", get("health")),
            ("GET /flow_runs?flow_name=flow-7", get("flow_runs", flow_name="flow-7", limit=PAGE)),
            ("GET /flow_runs?flow_name=rare", get("flow_runs", flow_name="rare", limit=PAGE)),
            ("GET /flow_runs?state=Failed", get("flow_runs", state="Failed", limit=PAGE)),
            ("GET /ui/runs (all, first page)", get("ui/runs", limit=PAGE)),
            ("GET /ui/runs (all, deep page)", get("ui/runs", limit=PAGE, before=deep)),
            ("GET /ui/runs?flow=flow-7", get("ui/runs", flow="flow-7", limit=PAGE)),
            ("GET /ui/runs?flow=flow-7 deep", get("ui/runs", flow="flow-7", before=deep)),
            ("GET /ui/runs?flow=rare", get("ui/runs", flow="rare", limit=PAGE)),
            ("GET /ui/runs?state=Failed", get("ui/runs", state="Failed", limit=PAGE)),
            ("GET /ui/runs?state=Failed deep", get("ui/runs", state="Failed", before=deep)),
            (
                "GET /ui/runs?flow=flow-7&state=Failed",
                get("ui/runs", flow="flow-7", state="Failed"),
            ),
            ("GET /ui/dashboard", get("ui/dashboard")),
            ("GET /ui/flow_runs/{id} (1,000 task runs)", get(f"ui/flow_runs/{run}")),
            ("GET /ui/flow_runs/{id}/task_runs", get(f"ui/flow_runs/{run}/task_runs")),
            ("GET /flow_runs/{id}", get(f"flow_runs/{run}")),
        ]
        for name, send in routes:
            results.append((name, timed(http, rounds, send)))
        claims = min(rounds, DUE // 2)
        claim = lambda: http.post("work/claim", json={"limit": 1})  # noqa: E731
        results.append(("POST /work/claim (takes one due run)", timed(http, claims, claim)))
        while http.post("work/claim", json={"limit": 1000}).json():
            pass
        results.append(("POST /work/claim (none due)", timed(http, rounds, claim)))
    return results


def bench(backend: str, flow_runs: int, task_runs: int, rounds: int) -> None:
    seed = Seed(flow_runs, task_runs)
    with database(backend) as (db, env):
        began = time.perf_counter()
        seed_database(db, backend, seed)
        seeded = time.perf_counter() - began
        print(
            f"[{backend}] {flow_runs:,} flow runs, {seed.tasks_per_run * flow_runs:,} task runs"
            f" (one run with {BIG_RUN_TASKS:,}), seeded in {seeded:.0f} s;"
            f" {rounds} requests per route, ms:"
        )
        with server(env) as url:
            results = measure(url, seed, rounds)
    base = _p(results[0][1], 0.99)
    for name, took in results:
        flag = "" if _p(took, 0.99) <= 100 else "  > 100 ms"
        print(
            f"  {name:<44} p50 {_p(took, 0.5):7.1f}  p99 {_p(took, 0.99):7.1f}"
            f"  (baseline p99 {base:.1f}){flag}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--flow-runs", type=int, default=100_000)
    parser.add_argument("--task-runs", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        if backend == "postgresql" and not postgres_available():
            print("[postgresql] skipped: not reachable (set WEIR_TEST_POSTGRES_URL)")
            continue
        default = 1_000_000 if backend == "sqlite" else 10_000_000
        bench(backend, args.flow_runs, args.task_runs or default, args.rounds)


if __name__ == "__main__":
    main()
