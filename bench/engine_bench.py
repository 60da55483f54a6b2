"""Per-task overhead of weir's local engine beside plain-Python baselines.

Shapes (each task is a trivial function):
  independent  1,000 tasks with no edges, no arguments (``one()``)
  independent-inc
               1,000 tasks with no edges, each ``inc(1)`` with a constant: the
               same function and one input per task, as in the chain, so the two
               differ only in the graph's shape
  chain        1,000 tasks, each ``inc`` of the previous one's result
  layers       10 layers of 100; each task takes two tasks of the layer before

For each shape, in one process: a plain Python loop calling the same functions
in the same order, ``concurrent.futures.ThreadPoolExecutor`` submit + result,
and weir's ``flow.run()`` on LocalExecutor and ThreadExecutor. Times are the
best of ``--repeat`` runs; per-task overhead is (time - plain loop) / tasks.
Peak memory is measured in a separate run with tracemalloc.

    python bench/engine_bench.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor as Pool
from typing import Any

from rich.console import Console
from rich.table import Table

from weir import Flow, task
from weir.engine.reporter import InMemoryReporter
from weir.executors import LocalExecutor, ThreadExecutor


def one() -> int:
    return 1


def inc(x: int) -> int:
    return x + 1


def add(x: int, y: int) -> int:
    return x + y


# --- shapes: how to build the flow, and the same work as a plain loop ---------
def flow_independent(n: int) -> Flow:
    t = task(one)
    with Flow("independent") as flow:
        for _ in range(n):
            t()
    return flow


def plain_independent(n: int) -> Any:
    return [one() for _ in range(n)]


def pool_independent(pool: Pool, n: int) -> Any:
    futs = [pool.submit(one) for _ in range(n)]
    return [f.result() for f in futs]


def flow_independent_inc(n: int) -> Flow:
    t = task(inc)
    with Flow("independent-inc") as flow:
        for _ in range(n):
            t(1)
    return flow


def plain_independent_inc(n: int) -> Any:
    return [inc(1) for _ in range(n)]


def pool_independent_inc(pool: Pool, n: int) -> Any:
    futs = [pool.submit(inc, 1) for _ in range(n)]
    return [f.result() for f in futs]


def flow_chain(n: int) -> Flow:
    t0, t = task(one), task(inc)
    with Flow("chain") as flow:
        x = t0()
        for _ in range(n - 1):
            x = t(x)
    return flow


def plain_chain(n: int) -> Any:
    x = one()
    for _ in range(n - 1):
        x = inc(x)
    return x


def pool_chain(pool: Pool, n: int) -> Any:
    x = pool.submit(one).result()
    for _ in range(n - 1):
        x = pool.submit(inc, x).result()
    return x


LAYERS, WIDTH = 10, 100


def flow_layers(n: int) -> Flow:
    t0, t = task(one), task(add)
    with Flow("layers") as flow:
        layer = [t0() for _ in range(WIDTH)]
        for _ in range(LAYERS - 1):
            layer = [t(layer[i], layer[(i + 1) % WIDTH]) for i in range(WIDTH)]
    return flow


def plain_layers(n: int) -> Any:
    layer = [one() for _ in range(WIDTH)]
    for _ in range(LAYERS - 1):
        layer = [add(layer[i], layer[(i + 1) % WIDTH]) for i in range(WIDTH)]
    return layer


def pool_layers(pool: Pool, n: int) -> Any:
    layer = [pool.submit(one) for _ in range(WIDTH)]
    for _ in range(LAYERS - 1):
        vals = [f.result() for f in layer]
        layer = [pool.submit(add, vals[i], vals[(i + 1) % WIDTH]) for i in range(WIDTH)]
    return [f.result() for f in layer]


SHAPES: dict[str, tuple[Callable[[int], Flow], Callable[[int], Any], Callable[..., Any], int]] = {
    "independent": (flow_independent, plain_independent, pool_independent, 1000),
    "independent-inc": (
        flow_independent_inc,
        plain_independent_inc,
        pool_independent_inc,
        1000,
    ),
    "chain": (flow_chain, plain_chain, pool_chain, 1000),
    "chain-4000": (flow_chain, plain_chain, pool_chain, 4000),
    "layers": (flow_layers, plain_layers, pool_layers, LAYERS * WIDTH),
}


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_kib(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def run_weir(flow: Flow, executor: Any) -> Any:
    state = flow.run(executor=executor, reporter=InMemoryReporter())
    assert state.is_successful(), state
    return state


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    console = Console(width=160)
    table = Table(title=f"weir engine: per-task overhead (best of {args.repeat})")
    for col in (
        "shape",
        "tasks",
        "plain loop µs/task",
        "ThreadPool µs/task",
        "weir Local µs/task",
        "weir Local overhead µs",
        "weir Threads µs/task",
        "weir Local peak KiB",
    ):
        table.add_column(col, justify="right")
    with Pool(max_workers=4) as pool:
        for name, (build, plain, pooled, n) in SHAPES.items():
            flow = build(n)
            run_weir(flow, LocalExecutor())  # warm the run plan and caches
            t_plain = best(lambda: plain(n), args.repeat)  # noqa: B023
            t_pool = best(lambda: pooled(pool, n), args.repeat)  # noqa: B023
            t_local = best(lambda: run_weir(flow, LocalExecutor()), args.repeat)  # noqa: B023
            t_threads = best(
                lambda: run_weir(flow, ThreadExecutor(max_workers=4)),  # noqa: B023
                max(1, args.repeat // 2),
            )
            peak = peak_kib(lambda: run_weir(flow, LocalExecutor()))  # noqa: B023
            us = 1e6 / n
            table.add_row(
                name,
                str(n),
                f"{t_plain * us:.2f}",
                f"{t_pool * us:.1f}",
                f"{t_local * us:.2f}",
                f"{(t_local - t_plain) * us:.2f}",
                f"{t_threads * us:.1f}",
                f"{peak:,.0f}",
            )
    console.print(table)


if __name__ == "__main__":
    main()
