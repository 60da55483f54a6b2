"""The server's task-run write path in one process, beside the database driver alone.

What a task run costs the server where the end-to-end figure (``agent_bench.py``)
is too noisy to tell a change from the machine: each step of a task-run batch,
per task run, on a new SQLite database (migrated, as ``weir server start`` makes
it), with no HTTP and no other process:

  - validate: the request's bytes checked into items, as ``POST /task_runs/batch``
    does;
  - store: the validated batch kept to be written later (``wait=false``, what the
    engine sends), its transaction committed;
  - write: the stored batches written into task runs, as the server's writer thread
    does (one transaction, committed);

for two shapes of work:

  - a 1,000-task run as the engine reports it: a batch of 250 new task runs, then
    one of 750, each item a task's Running and Success together;
  - tasks that take a while: 1,000 Running items stored and written, then their
    1,000 Success items (updates of stored task runs) stored and written; the
    second round is timed.

Beside them, the baseline: the same number of rows inserted through the
``sqlite3`` driver alone (``executemany``, one transaction, committed) into a
table of ``task_run``'s exact schema and indexes, in the same process: what
the database itself costs, run round by round beside them. The best of
``--repeat`` rounds for each figure (the machine's noise only ever adds), and
the median of the rounds' ratios.

    python bench/write_path_bench.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter
from rich.console import Console
from rich.table import Table

from weir import Flow, task
from weir.schemas import actions
from weir.server.database.engine import Database
from weir.server.database.migrate import upgrade
from weir.server.models import flow_runs, task_run_batches, writes
from weir.server.testing import store_flow_unchecked

_BATCH: TypeAdapter[list[actions.TaskRunUpsert]] = TypeAdapter(list[actions.TaskRunUpsert])


@task
def one() -> int:
    return 1


def _flow() -> dict[str, Any]:
    with Flow("write-path") as flow:
        one()
    return flow.serialize()


def _state(kind: str, at: float) -> dict[str, Any]:
    if kind == "Running":
        return {"type": "Running", "message": None, "timestamp": at}
    # What the engine sends for a task that returned a small value.
    return {
        "type": kind,
        "message": "Task run succeeded.",
        "timestamp": at,
        "location": "inline:gAVLAi4=",
    }


def _body(run_id: uuid.UUID, slugs: range, *kinds: str) -> bytes:
    now = time.time()
    items = [
        {
            "flow_run_id": str(run_id),
            "task_slug": f"inc-{i}",
            "map_index": -1,
            "states": [_state(kind, now + k * 1e-5) for k, kind in enumerate(kinds)],
            **({"submitted": now} if kinds[0] == "Running" else {}),
        }
        for i in slugs
    ]
    return orjson.dumps(items)


class Steps:
    """Seconds each step of a round took, round by round."""

    def __init__(self) -> None:
        self.rounds: list[dict[str, float]] = []

    def round(self, db: Database, bodies: list[bytes], timed: bool = True) -> None:
        took = {"validate": 0.0, "store": 0.0, "write": 0.0}
        for body in bodies:
            t0 = time.perf_counter()
            items = _BATCH.validate_json(body)
            t1 = time.perf_counter()
            writes.store_task_run_batch(db, items, body, time.time, None)
            took["validate"] += t1 - t0
            took["store"] += time.perf_counter() - t1
        t0 = time.perf_counter()
        with db.session(write=True) as session:
            task_run_batches.write(session, time.time())
        took["write"] = time.perf_counter() - t0
        if timed:
            self.rounds.append(took)

    def best(self) -> dict[str, float]:
        return {step: min(r[step] for r in self.rounds) for step in self.rounds[0]}

    def totals(self) -> list[float]:
        return [sum(r.values()) for r in self.rounds]


def _new_run(db: Database, flow_id: uuid.UUID) -> uuid.UUID:
    with db.session(write=True) as session:
        run = flow_runs.create(session, actions.FlowRunCreate(flow_id=flow_id), time.time()).run
        return run.id


def engine_shape(db: Database, flow_id: uuid.UUID, steps: Steps, timed: bool) -> None:
    run_id = _new_run(db, flow_id)
    bodies = [_body(run_id, range(0, 250), "Running", "Success")]
    bodies.append(_body(run_id, range(250, 1000), "Running", "Success"))
    steps.round(db, bodies, timed)


def updates(db: Database, flow_id: uuid.UUID, steps: Steps, timed: bool) -> None:
    run_id = _new_run(db, flow_id)
    steps.round(db, [_body(run_id, range(1000), "Running")], timed=False)
    steps.round(db, [_body(run_id, range(1000), "Success")], timed)


class Driver:
    """The same rows inserted through sqlite3 alone, one transaction a round, into a
    table of ``task_run``'s schema (and a flow run each row's foreign key checks)."""

    def __init__(self, directory: Path, schema: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.connection = sqlite3.connect(directory / "driver.db", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.connection.execute("CREATE TABLE flow_run (id CHAR(32) PRIMARY KEY)")
        self.run_id = rows[0][0]
        self.connection.execute("INSERT INTO flow_run VALUES (?)", (self.run_id,))
        for statement in schema:
            self.connection.execute(statement)
        columns = [c[1] for c in self.connection.execute("PRAGMA table_info(task_run)")]
        self.slug_at, self.id_at = columns.index("task_slug"), columns.index("id")
        self.rows = rows
        self.insert = f"INSERT INTO task_run VALUES ({', '.join('?' for _ in rows[0])})"
        self.times: list[float] = []

    def _fresh(self, row: tuple[Any, ...], slug: str) -> tuple[Any, ...]:
        values = list(row)
        values[self.slug_at], values[self.id_at] = slug, uuid.uuid4().hex
        return tuple(values)

    def round(self, n: int, timed: bool) -> None:
        # Each round's rows are new: fresh ids and keys, as a new flow run's are.
        fresh = [self._fresh(row, f"inc-{n}-{i}") for i, row in enumerate(self.rows)]
        t0 = time.perf_counter()
        self.connection.execute("BEGIN IMMEDIATE")
        self.connection.executemany(self.insert, fresh)
        self.connection.execute("COMMIT")
        if timed:
            self.times.append(time.perf_counter() - t0)


def _task_run_schema(db: Database) -> list[str]:
    with db.write_engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'task_run' AND sql IS NOT NULL"
            " ORDER BY type DESC"  # the table before its indexes
        )
        return [statement for (statement,) in found]


def _stored_rows(db: Database) -> list[tuple[Any, ...]]:
    """A thousand task runs as weir stored them, in the table's column order."""
    with db.write_engine.connect() as connection:
        return list(connection.exec_driver_sql("SELECT * FROM task_run LIMIT 1000"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    shapes = {
        "a 1,000-task run (250 + 750 new)": (engine_shape, Steps()),
        "1,000 updates (Success after Running)": (updates, Steps()),
    }
    with tempfile.TemporaryDirectory(prefix="weir-bench-") as name:
        directory = Path(name)
        db = Database(f"sqlite:///{directory / 'weir.db'}")
        upgrade(db)
        flow_id = store_flow_unchecked(db, _flow())
        engine_shape(db, flow_id, Steps(), timed=False)
        driver = Driver(directory, _task_run_schema(db), _stored_rows(db))
        # Round by round, each shape beside the driver: the machine's speed drifts, and
        # each ratio's sides should see it alike.
        for n in range(args.repeat + 2):
            for run, steps in shapes.values():
                run(db, flow_id, steps, n >= 2)
            driver.round(n, n >= 2)
        driver.connection.close()
        db.dispose()
    table = Table(title="task-run write path, SQLite, µs per task run (best of the rounds)")
    for column in ("work", "validate", "store", "write", "all", "driver alone", "ratio"):
        table.add_column(column, justify="right" if column != "work" else "left")
    for name, (_, steps) in shapes.items():
        best = steps.best()
        # The ratio: each round's weir total over the driver's time in the same round.
        ratio = statistics.median(t / d for t, d in zip(steps.totals(), driver.times, strict=True))
        table.add_row(
            name,
            *(f"{best[s] / 1000 * 1e6:.1f}" for s in ("validate", "store", "write")),
            f"{min(steps.totals()) / 1000 * 1e6:.1f}",
            f"{min(driver.times) / 1000 * 1e6:.1f}",
            f"{ratio:.1f}×",
        )
    Console(width=120).print(table)
    print("ratio: the median, over the rounds, of weir's whole path over the driver's insert.")


if __name__ == "__main__":
    main()
