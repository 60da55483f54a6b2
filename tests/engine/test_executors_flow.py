"""The same flows on every executor: inline, threads, processes and a real Dask cluster.

Mapping (plain, unmapped, flatten, empty, map of a map, reduce), branching,
caching, retries, timeouts, and logs from workers must behave alike whatever
runs the tasks.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import time
from collections.abc import Iterator

import cloudpickle
import pytest

from weir import Flow, Parameter, case, context, flatten, merge, task, unmapped
from weir.engine.cache import CACHE
from weir.engine.reporter import InMemoryReporter
from weir.executors import (
    DaskExecutor,
    Executor,
    LocalExecutor,
    ProcessExecutor,
    ThreadExecutor,
)
from weir.utilities.waiting import wait_until

# Worker processes cannot import this test module by name; send its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        resources={"GPU": 1},
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(params=["local", "threads", "processes", "dask"])
def executor(request: pytest.FixtureRequest) -> Executor:
    kind = request.param
    if kind == "local":
        return LocalExecutor()
    if kind == "threads":
        return ThreadExecutor(max_workers=4)
    if kind == "processes":
        return ProcessExecutor(max_workers=2)
    return DaskExecutor(address=request.getfixturevalue("dask_address"))


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    CACHE.clear()
    yield
    CACHE.clear()


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def inc(x: int) -> int:
    context.get_logger().info("inc %s at map index %s", x, context.map_index)
    return x + 1


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def pairs(x: int) -> list[int]:
    return [x, x * 10]


def run(flow: Flow, executor: Executor, **kw: object) -> tuple[object, InMemoryReporter]:
    reporter = InMemoryReporter()
    return flow.run(executor=executor, reporter=reporter, **kw), reporter


def test_map_unmapped_and_reduce(executor: Executor) -> None:
    with Flow("m") as flow:
        xs = numbers(Parameter("n", default=5))
        ys = add.map(xs, y=unmapped(100))
        out = total(ys)
    state, reporter = run(flow, executor)
    assert state.is_successful()
    assert state.result[ys].is_mapped()
    assert [s.result for s in state.result[ys].map_states] == [100, 101, 102, 103, 104]
    assert state.result[out].result == 510
    slugs = {(slug, k) for (slug, k) in reporter.task_states if slug == flow.slugs[ys]}
    assert slugs == {(flow.slugs[ys], None), *((flow.slugs[ys], k) for k in range(5))}


def test_map_of_a_map_and_logs_from_children(executor: Executor) -> None:
    with Flow("mm") as flow:
        first = inc.map(numbers(3))
        second = inc.map(first)
        out = total(second)
    state, reporter = run(flow, executor)
    assert state.result[out].result == 2 + 3 + 4
    messages = [(slug, k, r["message"]) for slug, k, r in reporter.logs]
    assert (flow.slugs[second], 2, "inc 3 at map index 2") in messages
    assert all(r["name"] == "weir.task_run" for slug, _, r in reporter.logs if slug is not None)
    # The FlowRunner's own lines are the run's, as in Prefect 1 (its end, here).
    flow_lines = [r["message"] for slug, _, r in reporter.logs if slug is None]
    assert flow_lines == ["Flow run SUCCESS: All reference tasks succeeded."]


def test_flatten_and_empty_map(executor: Executor) -> None:
    with Flow("flat") as flow:
        nested = pairs.map(numbers(3))
        flat = inc.map(flatten(nested))
        empty = inc.map(numbers(0))
        after_empty = total(empty)
    state, _ = run(flow, executor)
    assert state.result[flat].result == [1, 1, 2, 11, 3, 21]
    assert state.result[empty].is_mapped() and state.result[empty].map_states == []
    assert state.result[after_empty].result == 0


@task
def nested_lists() -> list[list[int]]:
    return [[1, 2], [3]]


def test_flatten_in_a_plain_call_calls_it_once_with_the_flat_list(executor: Executor) -> None:
    # Prefect 1: "flatten() can be used on any task input, even if it isn't being mapped
    # over": a reduce over a map of lists, and over a task returning a list of lists.
    with Flow("flat-reduce") as flow:
        over_map = total(flatten(pairs.map(numbers(3))))
        over_task = total(flatten(nested_lists()))
        still_mapped = inc.map(flatten(nested_lists()))
    state, _ = run(flow, executor)
    assert state.result[over_map].result == 0 + 0 + 1 + 10 + 2 + 20
    assert type(state.result[over_map]).__name__ == "Success"
    assert state.result[over_task].result == 6
    assert state.result[still_mapped].result == [2, 3, 4]


def test_case_and_merge(executor: Executor) -> None:
    @task
    def is_big(n: int) -> bool:
        return n > 2

    with Flow("branch") as flow:
        n = Parameter("n")
        big = is_big(n)
        with case(big, True):
            a = add(n, 1000)
        with case(big, False):
            b = add(n, 0)
        out = merge(a, b)
    state, _ = run(flow, executor, parameters={"n": 5})
    assert state.result[out].result == 1005
    assert state.result[b].is_skipped()
    state, _ = run(flow, executor, parameters={"n": 1})
    assert state.result[out].result == 1
    assert state.result[a].is_skipped()


@task(max_retries=2, retry_delay=datetime.timedelta(seconds=0.05))
def fails_first_time() -> int:
    if context.task_run_count < 2:
        raise RuntimeError("first attempt fails")
    return context.task_run_count


def test_retries(executor: Executor) -> None:
    with Flow("retry") as flow:
        out = fails_first_time()
    state, reporter = run(flow, executor)
    assert state.result[out].result == 2
    kinds = [e[1] for e in reporter.events]
    assert kinds.count("task_retry_scheduled") == 1


@task(timeout=0.5)
def sleeps(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_timeout_ends_timed_out_without_hanging(executor: Executor) -> None:
    with Flow("slow") as flow:
        slow = sleeps(30)
        quick = sleeps(0)
    started = time.monotonic()
    state, _ = run(flow, executor)
    assert state.result[slow].is_failed() and type(state.result[slow]).__name__ == "TimedOut"
    assert state.result[quick].result == "done"
    assert time.monotonic() - started < 20


@task(timeout=0.5)
def report_pid_then_hang(path: str) -> None:
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(60)


def test_process_executor_kills_a_task_past_its_timeout(tmp_path: object) -> None:
    pid_file = f"{tmp_path}/pid"
    with Flow("kill") as flow:
        t = report_pid_then_hang(pid_file)
    state, _ = run(flow, ProcessExecutor(max_workers=1))
    assert type(state.result[t]).__name__ == "TimedOut"
    pid = int(open(pid_file).read())
    wait_until(lambda: not _alive(pid), 5, f"worker {pid} still runs after its task timed out")


CALLS: list[int] = []


@task(cache_for=datetime.timedelta(minutes=1))
def cached_square(x: int) -> int:
    CALLS.append(x)
    return x * x


def test_cache_for_reuses_results_on_local_executors() -> None:
    CALLS.clear()
    with Flow("cache") as flow:
        out = cached_square(Parameter("x", default=3))
    for executor in (LocalExecutor(), ThreadExecutor()):
        state, _ = run(flow, executor)
        assert state.result[out].result == 9
    assert CALLS == [3]


@task(tags=["dask-resource:GPU=1"])
def needs_gpu() -> str:
    from distributed import get_worker

    return str(get_worker().state.total_resources)


def test_dask_resource_tags_reach_workers(dask_address: str) -> None:
    with Flow("gpu") as flow:
        out = needs_gpu()
    state, _ = run(flow, DaskExecutor(address=dask_address))
    assert "GPU" in state.result[out].result


def test_temporary_dask_cluster_is_closed_after_the_run() -> None:
    from distributed import LocalCluster

    made: list[LocalCluster] = []

    class RecordingCluster(LocalCluster):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
            made.append(self)

    executor = DaskExecutor(
        cluster_class=RecordingCluster,
        cluster_kwargs={
            "n_workers": 1,
            "threads_per_worker": 1,
            "processes": False,
            "dashboard_address": None,
        },
    )
    with Flow("tmp") as flow:
        out = inc(1)
    state, _ = run(flow, executor)
    assert state.result[out].result == 2
    assert len(made) == 1 and made[0].status.name == "closed"


def test_depth_first_mapping_on_the_inline_executor() -> None:
    with Flow("depth") as flow:
        first = inc.map(numbers(3))
        second = inc.map(first)
    _, reporter = run(flow, LocalExecutor())
    started = [(slug, k) for _, kind, slug, k, _ in reporter.events if kind == "task_started"]
    children = [(s, k) for s, k in started if k is not None]
    a, b = flow.slugs[first], flow.slugs[second]
    # Child k of the second map runs right after child k of the first, not after the layer.
    assert children == [(a, 0), (b, 0), (a, 1), (b, 1), (a, 2), (b, 2)]


@task(checkpoint=True, target="{flow_name}/{task_name}-{map_index}.bin")
def stored_square(x: int, calls: str) -> int:
    with open(calls, "a") as f:
        f.write(f"{x}\n")
    return x * x


def test_checkpoints_and_targets_hold_on_every_executor(
    executor: Executor, tmp_path: object
) -> None:
    from weir.engine.results import LocalResult

    calls = f"{tmp_path}/calls"
    with Flow("stored", result=LocalResult(dir=str(tmp_path))) as flow:
        squares = stored_square.map(numbers(3), calls=unmapped(calls))
    first, _ = run(flow, executor)
    assert first.result[squares].result == [0, 1, 4]
    locations = [s.location for s in first.result[squares].map_states]
    for i, location in enumerate(locations):
        assert location and location.endswith(f"stored/stored_square-{i}.bin")
    second, _ = run(flow, executor)
    assert second.result[squares].result == [0, 1, 4]
    assert all(s.is_cached() for s in second.result[squares].map_states)
    assert sorted(open(calls).read().split()) == ["0", "1", "2"]  # each child ran once
