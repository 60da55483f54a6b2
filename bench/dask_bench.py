"""Dask overhead: 1,000 trivial calls, raw Dask beside DaskExecutor, on one cluster.

Run: python bench/dask_bench.py [--calls N]

Prints the wall time per call of:
  raw      client.map + client.gather (the floor: one batch, one gather)
  submit   DaskExecutor.submit one by one, then every future's result
  many     DaskExecutor.submit_many (one client.map), then every future's result
  flow     weir's whole path: flow.run() of one task mapped over N items on
           DaskExecutor(address=...) (TaskRunner, states, logs and trace included)
and each path's ratio to raw. A LocalCluster(n_workers=2, threads_per_worker=1)
is started once; every path runs on it, after one warm-up round.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable

from distributed import Client, LocalCluster

from weir import Flow, task
from weir.engine.reporter import InMemoryReporter
from weir.executors.dask import DaskExecutor


def inc(x: int) -> int:
    return x + 1


def mapped_flow(n: int) -> Flow:
    with Flow("dask-bench") as flow:
        task(inc).map(list(range(n)))
    return flow


def run_flow(flow: Flow, address: str) -> list[int]:
    state = flow.run(executor=DaskExecutor(address=address), reporter=InMemoryReporter())
    assert state.is_successful(), state
    (mapped,) = [s for s in state.result.values() if s.is_mapped()]
    return list(mapped.result)


def run_raw(client: Client, n: int) -> list[int]:
    return client.gather(client.map(inc, range(n), pure=False))


def run_submit(executor: DaskExecutor, n: int) -> list[int]:
    futures = [executor.submit(inc, i) for i in range(n)]
    return [f.result() for f in futures]


def run_many(executor: DaskExecutor, n: int) -> list[int]:
    futures = executor.submit_many([(inc, (i,), {}) for i in range(n)])
    return [f.result() for f in futures]


def timed(fn: Callable[[], list[int]], n: int, repeat: int) -> float:
    """Best of ``repeat`` runs, in microseconds per call."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
        assert out == list(range(1, n + 1))
    return best / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.calls

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        executor = DaskExecutor(address=cluster.scheduler_address)
        with executor.start():
            # Warm up: workers import the functions, connections open.
            run_raw(client, 50), run_submit(executor, 50), run_many(executor, 50)
            raw = timed(lambda: run_raw(client, n), n, args.repeat)
            submit = timed(lambda: run_submit(executor, n), n, args.repeat)
            many = timed(lambda: run_many(executor, n), n, args.repeat)
        flow = mapped_flow(n)
        address = cluster.scheduler_address
        run_flow(mapped_flow(50), address)
        whole = timed(lambda: run_flow(flow, address), n, args.repeat)

    print(
        f"{n} trivial calls on LocalCluster(n_workers=2, threads_per_worker=1), best of "
        f"{args.repeat}"
    )
    print(f"{'path':<40} {'us/call':>10} {'x raw':>8}")
    for name, us in [
        ("raw client.map + client.gather", raw),
        ("DaskExecutor.submit + result()", submit),
        ("DaskExecutor.submit_many + result()", many),
        ("weir flow.run(), mapped task, DaskExecutor", whole),
    ]:
        print(f"{name:<40} {us:>10.1f} {us / raw:>8.2f}")


if __name__ == "__main__":
    main()
