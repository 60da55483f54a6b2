"""weir's ProcessExecutor pool beside pebble's ProcessPool, on what a flow asks of it.

Both pools get 2 workers started with "spawn" (ProcessExecutor's default) and carry
each call with cloudpickle, as ProcessExecutor must for lambdas and closures (pebble
pickles with the standard pickle, so its calls go through a cloudpickle wrapper,
which is what a pebble-based ProcessExecutor would do). Workers are started before
the clock runs, except in "start".

  start        pool start + one call answered + shutdown
  sequential   1,000 short calls, each submit then result (a chain of tasks)
  batch        1,000 short calls submitted at once, then all results (a mapped task)
  timeouts     20 calls that sleep 30 s with a 0.1 s timeout: until all 20 have failed
               with a timeout (at least 10 rounds of 0.1 s on 2 workers), then one
               call answered by a fresh worker
  crashes      20 calls whose worker exits (os._exit): until all 20 have failed, then
               one call answered by a fresh worker

Times are the best of ``--repeat``; the timeouts and crashes scenarios also check what
each pool reports (a timeout error, a worker-died error) and that the pool still
answers afterwards, and the script prints every call that went otherwise. pebble
is optional: without it the script measures weir alone.

    python bench/process_pool_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, wait
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any

import cloudpickle

from weir.exceptions import ExecutorError
from weir.executors import ProcessExecutor, TaskTimeoutError

try:
    import pebble
except ImportError:  # the bench still measures weir's pool
    pebble = None

WORKERS = 2
CALLS = 1_000
SLOW = 20


def add(a: int, b: int) -> int:
    return a + b


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def die() -> None:
    os._exit(3)


def _cloud_call(payload: bytes) -> bytes:
    """Runs in a pebble worker: a cloudpickled call, its value cloudpickled back."""
    fn, args, kwargs = cloudpickle.loads(payload)
    return cloudpickle.dumps(fn(*args, **kwargs))


class WeirPool:
    name = "weir ProcessExecutor"
    timeout_error: type[BaseException] = TaskTimeoutError
    death_error: type[BaseException] = ExecutorError

    def __enter__(self) -> WeirPool:
        self.executor = ProcessExecutor(max_workers=WORKERS)
        self._started = self.executor.start()
        self._started.__enter__()
        return self

    def submit(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        return self.executor.submit(fn, *args, timeout=timeout)

    def result(self, future: Future[Any]) -> Any:
        return future.result()

    def __exit__(self, *exc: Any) -> None:
        self._started.__exit__(None, None, None)


class PebblePool:
    name = "pebble ProcessPool"
    timeout_error: type[BaseException] = FuturesTimeout
    death_error: type[BaseException] = OSError  # pebble.ProcessExpired

    def __enter__(self) -> PebblePool:
        import multiprocessing

        self.pool = pebble.ProcessPool(
            max_workers=WORKERS, context=multiprocessing.get_context("spawn")
        )
        return self

    def submit(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        payload = cloudpickle.dumps((fn, args, {}))
        return self.pool.schedule(_cloud_call, args=(payload,), timeout=timeout)

    def result(self, future: Future[Any]) -> Any:
        return cloudpickle.loads(future.result())

    def __exit__(self, *exc: Any) -> None:
        self.pool.close()
        self.pool.join()


def warm(pool: Any) -> None:
    """Every worker started and answering, so the timed part sees a running pool."""
    futures = [pool.submit(sleep, 0.2) for _ in range(WORKERS)]
    for future in futures:
        pool.result(future)


def start(make: Callable[[], Any]) -> float:
    begin = time.perf_counter()
    with make() as pool:
        assert pool.result(pool.submit(add, 1, 2)) == 3
    return time.perf_counter() - begin


def sequential(pool: Any) -> float:
    begin = time.perf_counter()
    for i in range(CALLS):
        assert pool.result(pool.submit(add, i, 1)) == i + 1
    return time.perf_counter() - begin


def batch(pool: Any) -> float:
    begin = time.perf_counter()
    futures = [pool.submit(add, i, 1) for i in range(CALLS)]
    assert [pool.result(f) for f in futures] == [i + 1 for i in range(CALLS)]
    return time.perf_counter() - begin


#: What went other than expected, by pool and scenario: printed after the figures.
SURPRISES: dict[str, Counter[str]] = {}


def _all_fail_then_recover(pool: Any, futures: list[Any], error: type[BaseException]) -> None:
    """Wait for every call to fail, note any that failed otherwise, then ask one more call."""
    wait(futures)
    seen = SURPRISES.setdefault(pool.name, Counter())
    for future in futures:
        exc = future.exception()
        if not isinstance(exc, error):
            seen[f"{type(exc).__name__}: {exc} (not {error.__name__})"] += 1
    try:
        assert pool.result(pool.submit(add, 2, 2)) == 4
    except Exception as exc:  # noqa: BLE001 - the pool did not recover: say how
        seen[f"the next call failed: {type(exc).__name__}: {exc}"] += 1


def timeouts(pool: Any) -> float:
    begin = time.perf_counter()
    futures = [pool.submit(sleep, 30, timeout=0.1) for _ in range(SLOW)]
    _all_fail_then_recover(pool, futures, pool.timeout_error)
    return time.perf_counter() - begin


def crashes(pool: Any) -> float:
    begin = time.perf_counter()
    futures = [pool.submit(die) for _ in range(SLOW)]
    _all_fail_then_recover(pool, futures, pool.death_error)
    return time.perf_counter() - begin


def measure(make: Callable[[], Any], repeat: int) -> dict[str, float]:
    found: dict[str, list[float]] = {}
    for _ in range(repeat):
        found.setdefault("start", []).append(start(make))
        for scenario in (sequential, batch, timeouts, crashes):
            with make() as pool:
                warm(pool)
                found.setdefault(scenario.__name__, []).append(scenario(pool))
    return {name: min(times) for name, times in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    pools: list[Callable[[], Any]] = [WeirPool]
    if pebble is None:
        print("pebble is not installed: measuring weir's pool alone.")
    else:
        pools.append(PebblePool)
    results = {make.name: measure(make, repeat) for make in pools}  # type: ignore[attr-defined]
    ideal_rounds = SLOW / WORKERS * 0.1
    print(
        f"{'':22s}{'start':>10s}{'sequential':>14s}{'batch':>12s}{'timeouts':>12s}{'crashes':>12s}"
    )
    print(
        f"{'':22s}{'':>10s}{'µs a call':>14s}{'µs a call':>12s}"
        f"{f'(≥{ideal_rounds:.1f} s)':>12s}{'':>12s}"
    )
    for name, r in results.items():
        print(
            f"{name:22s}{r['start']:>9.2f}s{r['sequential'] / CALLS * 1e6:>14.0f}"
            f"{r['batch'] / CALLS * 1e6:>12.0f}{r['timeouts']:>11.2f}s{r['crashes']:>11.2f}s"
        )
    for name, seen in SURPRISES.items():
        for what, count in seen.items():
            print(f"{name}: {count} x {what}")


if __name__ == "__main__":
    main()
