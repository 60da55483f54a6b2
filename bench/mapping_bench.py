"""Mapping at scale: one mapped task of N trivial children plus a reduce.

Each size runs in a fresh process, so peak RSS belongs to that size alone. For
each it prints: the plain-Python baseline (a list comprehension plus ``sum``)
in the same process, weir's time per child, the peak RSS of the process, and
the memory still held after the run while the flow's final state is kept
(growth per child).

    python bench/mapping_bench.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time

from rich.console import Console
from rich.table import Table


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() // 1024


def measure(n: int) -> dict[str, float]:
    # `import weir` leaves the runner to the first flow.run(); load it here, so the
    # time per child and the memory held are the map's, not a module import's.
    import weir.engine.flow_runner  # noqa: F401
    from weir import Flow, task
    from weir.engine.reporter import InMemoryReporter

    def inc(x: int) -> int:
        return x + 1

    items = list(range(n))
    t0 = time.perf_counter()
    plain = sum([inc(x) for x in items])
    t_plain = time.perf_counter() - t0

    @task
    def source() -> list[int]:
        return items

    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    with Flow("map") as flow:
        result = total(task(inc).map(source()))
    gc.collect()
    before = rss_kib()
    t0 = time.perf_counter()
    state = flow.run(reporter=InMemoryReporter(keep_task_history=False))
    elapsed = time.perf_counter() - t0
    assert state.is_successful() and state.result[result].result == plain
    gc.collect()
    held = rss_kib() - before
    return {
        "n": n,
        "plain_us": t_plain / n * 1e6,
        "weir_us": elapsed / n * 1e6,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "held_b_per_child": held * 1024 / n,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    table = Table(title="weir mapping: one mapped task + reduce, LocalExecutor")
    for col in (
        "children",
        "plain loop µs/child",
        "weir µs/child",
        "peak RSS MiB",
        "held after run, bytes/child",
    ):
        table.add_column(col, justify="right")
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        table.add_row(
            f"{n:,}",
            f"{r['plain_us']:.3f}",
            f"{r['weir_us']:.2f}",
            f"{r['peak_mib']:.0f}",
            f"{r['held_b_per_child']:.0f}",
        )
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
