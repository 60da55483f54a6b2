"""LocalDaskExecutor: flows on dask's threads, processes and synchronous schedulers."""

from __future__ import annotations

import os
import threading

import pytest

from weir import Flow, Parameter, task, unmapped
from weir.engine.state import Failed, Success
from weir.executors import LocalDaskExecutor

pytest.importorskip("dask")

#: Tasks on the thread scheduler meet here: only tasks that run at once get through.
barrier = threading.Barrier(2, timeout=5)


@task
def meet(_: int) -> str:
    barrier.wait()
    return threading.current_thread().name


#: Where a lone worker would wait for a partner that cannot start.
short_barrier = threading.Barrier(2, timeout=1)


@task
def meet_briefly(_: int) -> None:
    short_barrier.wait()


@task
def where() -> int:
    return os.getpid()


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def boom() -> None:
    raise ValueError("broken on purpose")


def etl() -> tuple[Flow, object, object]:
    with Flow("etl") as flow:
        n = Parameter("n", default=4)
        nums = task(lambda n: list(range(n)), name="nums")(n)
        added = add.map(nums, y=unmapped(10))
        out = total(added)
    return flow, added, out


class TestSchedulers:
    @pytest.mark.parametrize("scheduler", ["threads", "processes", "synchronous"])
    def test_a_mapped_flow_gives_the_same_result_on_each(self, scheduler):
        flow, added, out = etl()
        state = flow.run(executor=LocalDaskExecutor(scheduler=scheduler))
        assert isinstance(state, Success)
        assert state.result[out].result == 46
        assert [c.result for c in state.result[added].map_states] == [10, 11, 12, 13]

    def test_threads_run_tasks_at_once(self):
        barrier.reset()
        with Flow("pair") as flow:
            names = meet.map([1, 2])
        state = flow.run(executor=LocalDaskExecutor(scheduler="threads", num_workers=2))
        assert isinstance(state, Success), state.result[names].map_states
        assert all(n.startswith("weir-dask") for n in state.result[names].result)

    def test_num_workers_sizes_the_pool(self):
        short_barrier.reset()
        with Flow("pair") as flow:
            meet_briefly.map([1, 2])
        # One worker: the second task cannot start while the first waits for it.
        state = flow.run(executor=LocalDaskExecutor(scheduler="threads", num_workers=1))
        assert isinstance(state, Failed)

    def test_processes_run_tasks_in_other_processes(self):
        with Flow("where") as flow:
            pid = where()
        state = flow.run(executor=LocalDaskExecutor(scheduler="processes", num_workers=1))
        assert state.result[pid].result != os.getpid()

    def test_synchronous_runs_in_the_flow_runs_thread(self):
        with Flow("where") as flow:
            name = task(lambda: threading.current_thread().name, name="name")()
        state = flow.run(executor=LocalDaskExecutor(scheduler="synchronous"))
        assert state.result[name].result == threading.current_thread().name

    @pytest.mark.parametrize("scheduler", ["threads", "processes", "synchronous"])
    def test_a_failing_task_fails_with_its_error(self, scheduler):
        with Flow("bad") as flow:
            b = boom()
        state = flow.run(executor=LocalDaskExecutor(scheduler=scheduler))
        assert isinstance(state.result[b], Failed)
        assert "broken on purpose" in state.result[b].message


class TestOptions:
    @pytest.mark.parametrize(
        ("given", "normal"),
        [("threading", "threads"), ("multiprocessing", "processes"), ("sync", "synchronous")],
    )
    def test_prefect_1_aliases_are_accepted(self, given, normal):
        assert LocalDaskExecutor(scheduler=given).scheduler == normal

    def test_an_unknown_scheduler_is_refused_with_the_choices(self):
        with pytest.raises(ValueError, match="unknown scheduler 'gpu'.*'threads'"):
            LocalDaskExecutor(scheduler="gpu")

    def test_submit_outside_start_says_to_start_first(self):
        from weir.exceptions import ExecutorError

        with pytest.raises(ExecutorError, match="start the executor first"):
            LocalDaskExecutor().submit(print)

    def test_it_serializes_with_its_scheduler_and_config(self):
        executor = LocalDaskExecutor("processes", num_workers=3)
        assert executor.serialize() == {
            "type": "LocalDaskExecutor",
            "scheduler": "processes",
            "num_workers": 3,
        }
