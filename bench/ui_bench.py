"""Benchmark the web UI's flow-run page on big runs, in Debian's chromium.

Two runs are stored in a live server (SQLite, loopback), every task finished:
- a flow of 5,000 tasks (50 layers of 100; each task takes two of the layer before);
- a flow whose one mapped task has 5,000 children.

For each, the page ``/flow-runs/{id}`` is opened in a fresh browser context and
timed from navigation to the DAG drawn with its states (the ``data-ready-ms``
the page's script sets, i.e. ``performance.now()`` then), beside the wall time
seen from here and the time of the one API call the page polls. Target: <= 2 s.

Then 100,000 runs (``--runs``) are written straight into the database (one bulk
insert: the API would take minutes), and the runs page ``/flow-runs`` is timed
the same way to its table drawn (``main[data-ready-ms]``): the first page, a
filtered one (one flow's failed runs) and one 1,000 pages deep (a ``before``
cursor), beside the run page above as the baseline. The API's keyset page is
timed beside the offset paging of ``GET /flow_runs`` at the same depth.
Target: the runs page drawn in under 1 s.

Run: ``python bench/ui_bench.py [--tasks 5000] [--runs 100000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import insert

from weir import Flow, Parameter, task
from weir.server.app import create_app
from weir.server.database import orm
from weir.server.database.engine import Database
from weir.server.settings import ServerSettings
from weir.server.testing import LiveServer, temporary_database

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BATCH = 5000
VERBOSE = False


@task
def step(a: int = 0, b: int = 0) -> int:
    return a + b


@task
def child(x: int) -> int:
    return x


def layered_flow(tasks: int, width: int = 100) -> Flow:
    """``tasks`` tasks in layers of ``width``; each takes two tasks of the layer before."""
    with Flow(f"bench-layers-{tasks}") as flow:
        previous: list[Any] = []
        made = 0
        while made < tasks:
            layer = []
            for i in range(min(width, tasks - made)):
                if previous:
                    a, b = previous[i % len(previous)], previous[(i + 1) % len(previous)]
                    layer.append(step(a=a, b=b))
                else:
                    layer.append(step())
            previous = layer
            made += len(layer)
    return flow


def mapped_flow() -> Flow:
    with Flow("bench-mapped") as flow:
        child.map(Parameter("xs", default=[]))
    return flow


def store_run(http: httpx.Client, flow: Flow, children: int) -> tuple[str, int]:
    """Register the flow, create a run and write every task run as finished."""
    registered = http.post("/flows", json={"serialized_flow": flow.serialize()})
    registered.raise_for_status()
    flow_data = registered.json()["flow"]
    run = http.post("/flow_runs", json={"flow_id": flow_data["id"]}).json()
    version = run["version"]
    for kind in ("Running",):
        body = {"state": {"type": kind}, "version": version}
        version = http.post(f"/flow_runs/{run['id']}/state", json=body).json()["version"]
    items: list[dict[str, Any]] = []
    now = time.time()
    for spec in flow_data["serialized_flow"]["tasks"]:
        indexes = range(children) if spec["mapped"] else [-1]
        if spec["mapped"]:
            items += _states(run["id"], spec["slug"], -1, ("Running", "Mapped"), now)
        for i in indexes:
            items += _states(run["id"], spec["slug"], i, ("Running", "Success"), now)
    for start in range(0, len(items), BATCH):
        http.post("/task_runs/batch", json=items[start : start + BATCH]).raise_for_status()
    body = {"state": {"type": "Success"}, "version": version}
    http.post(f"/flow_runs/{run['id']}/state", json=body).raise_for_status()
    return run["id"], len(items) // 2


def _states(run_id: str, slug: str, index: int, kinds: tuple[str, ...], now: float) -> list:
    return [
        {
            "flow_run_id": run_id,
            "task_slug": slug,
            "map_index": index,
            "state": {"type": kind, "timestamp": now + n * 0.001},
        }
        for n, kind in enumerate(kinds)
    ]


#: The runs' states, roughly as a busy server has them (failures are rare).
RUN_STATES = ["Success"] * 90 + ["Failed"] * 3 + ["Cancelled"] + ["Scheduled"] * 6


def seed_runs(http: httpx.Client, db: Database, count: int, flows: int = 20) -> None:
    """``count`` runs of ``flows`` flows over the last 30 days, inserted in bulk."""
    ids = []
    for i in range(flows):
        with Flow(f"bench-runs-{i}") as flow:
            step()
        registered = http.post("/flows", json={"serialized_flow": flow.serialize()})
        registered.raise_for_status()
        ids.append(uuid.UUID(registered.json()["flow"]["id"]))
    rng = random.Random(7)
    now = time.time()
    rows = []
    for n in range(count):
        created = now - 30 * 86400 * (1 - n / count)
        state = rng.choice(RUN_STATES)
        done = state not in ("Scheduled",)
        rows.append(
            {
                "id": uuid.uuid4(),
                "created": created,
                "updated": created,
                "flow_id": ids[n % flows],
                "name": f"bench-run-{n}",
                "parameters": {},
                "labels": ["gpu"] if n % 7 == 0 else [],
                "scheduled_start_time": created,
                "start_time": created,
                "state_type": state,
                "state_timestamp": created + 5,
                "started_at": created + 1 if done else None,
                "ended_at": created + 5 if done else None,
            }
        )
    labels = [{"flow_run_id": r["id"], "label": "gpu"} for r in rows if r["labels"]]
    with db.session(write=True) as session:
        for start in range(0, count, 10_000):
            session.execute(insert(orm.FlowRun), rows[start : start + 10_000])
        session.execute(insert(orm.FlowRunLabel), labels)


def measure_runs_page(browser: Any, url: str) -> tuple[float, float, int]:
    """(ms from navigation to the runs table drawn, wall ms, rows shown)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("main[data-ready='true']", timeout=60_000)
        wall = (time.perf_counter() - started) * 1000
        ready = float(page.get_attribute("main", "data-ready-ms") or "nan")
        return ready, wall, page.locator("#runs tbody tr").count()
    finally:
        context.close()


def get_ms(http: httpx.Client, path: str, repeat: int, **params: Any) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        http.get(path, params=params).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def runs_page_bench(
    browser: Any, http: httpx.Client, db: Database, root: str, runs: int, repeat: int
) -> None:
    started = time.perf_counter()
    seed_runs(http, db, runs)
    print(f"\n{runs:,} runs inserted in {time.perf_counter() - started:.1f} s")
    deep = 1000 if runs >= 60_000 else max(1, runs // 100)
    # The cursor "Older" gives ``deep`` pages in: the key of the run just above it.
    offset = deep * 50
    row = http.get("/flow_runs", params={"limit": 1, "offset": offset - 1}).json()[0]
    cursor = f"{row['created']!r}_{row['id']}"
    cases = {
        "runs page, first page": "/flow-runs",
        "runs page, one flow's failed runs": "/flow-runs?state=Failed&flow=bench-runs-3",
        "runs page, label gpu and a search": "/flow-runs?label=gpu&q=run-9",
        f"runs page, {deep:,} pages deep": f"/flow-runs?before={cursor}",
    }
    print(f"{'page':<40} {'rows':>5} {'ready ms':>9} {'wall ms':>8}")
    for name, path in cases.items():
        measure_runs_page(browser, root + path)  # warm
        found = [measure_runs_page(browser, root + path) for _ in range(repeat)]
        ready = statistics.median(r for r, _, _ in found)
        wall = statistics.median(w for _, w, _ in found)
        print(f"{name:<40} {found[0][2]:>5} {ready:>9.0f} {wall:>8.0f}")
    keyset = get_ms(http, "/ui/runs", repeat, limit=50, before=cursor)
    first = get_ms(http, "/ui/runs", repeat, limit=50)
    failed = get_ms(http, "/ui/runs", repeat, limit=50, state="Failed", flow="bench-runs-3")
    by_offset = get_ms(http, "/flow_runs", repeat, limit=50, offset=offset)
    print(f"API /ui/runs first page {first:.0f} ms, failed of one flow {failed:.0f} ms, ")
    print(
        f"    {deep:,} pages deep by key {keyset:.0f} ms"
        f" (GET /flow_runs by offset {offset:,}: {by_offset:.0f} ms)"
    )
    print("target: the runs page drawn <= 1000 ms from navigation")


def measure(browser: Any, root: str, run_id: str) -> tuple[float, float]:
    """(ms from navigation to the DAG drawn per the page, wall ms seen from here)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(f"{root}/flow-runs/{run_id}")
        page.wait_for_selector("#dag[data-ready='true']", timeout=60_000)
        wall = (time.perf_counter() - started) * 1000
        ready = float(page.get_attribute("#dag", "data-ready-ms") or "nan")
        if VERBOSE:
            marks = page.evaluate(
                "performance.getEntriesByType('mark')"
                ".map(m => m.name + '=' + Math.round(m.startTime))"
            )
            print("   ", " ".join(marks))
        nodes = page.locator("#dag g.node").count()
        assert nodes > 0, "The DAG drew no node."
        return ready, wall
    finally:
        context.close()


def api_ms(http: httpx.Client, run_id: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        http.get(f"/ui/flow_runs/{run_id}").raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=100_000, help="runs for the runs page")
    parser.add_argument("--marks", action="store_true", help="print the page's timing marks")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.marks
    from playwright.sync_api import sync_playwright

    with temporary_database("sqlite") as db:
        app = create_app(ServerSettings(database_url=db.url), db=db, migrate=False)
        with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=120) as http:
            root = server.url.removesuffix("/api/v1")
            cases = {
                f"{args.tasks:,} tasks (layers of 100)": store_run(
                    http, layered_flow(args.tasks), 0
                ),
                f"1 mapped task, {args.tasks:,} children": store_run(
                    http, mapped_flow(), args.tasks
                ),
            }
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                head = f"{'run':<34} {'task runs':>9} {'API ms':>7} {'DAG ready ms':>13}"
                print(f"{head} {'wall ms':>8}")
                for name, (run_id, count) in cases.items():
                    measure(browser, root, run_id)  # warm the server's caches and chromium
                    runs = [measure(browser, root, run_id) for _ in range(args.repeat)]
                    ready = statistics.median(r for r, _ in runs)
                    wall = statistics.median(w for _, w in runs)
                    api = api_ms(http, run_id, args.repeat)
                    print(f"{name:<34} {count:>9,} {api:>7.0f} {ready:>13.0f} {wall:>8.0f}")
                print("target: DAG ready <= 2000 ms from navigation")
                if args.runs:
                    runs_page_bench(browser, http, db, root, args.runs, args.repeat)
                browser.close()


if __name__ == "__main__":
    main()
