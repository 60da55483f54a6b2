"""DaskExecutor on a real LocalCluster: results, errors, callbacks, resources, lifecycle."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future

import pytest

distributed = pytest.importorskip("distributed")

from weir.exceptions import ConfigurationError, ExecutorError  # noqa: E402
from weir.executors import DaskExecutor  # noqa: E402
from weir.executors.dask import resources_from_tags  # noqa: E402
from weir.utilities.waiting import wait_until  # noqa: E402

pytestmark = [
    pytest.mark.timeout(120),
    # The scheduler's HTTP server (health, metrics) starts even with the dashboard
    # off and moves off 8787 when another cluster holds it.
    pytest.mark.filterwarnings("ignore:Port 8787 is already in use"),
]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        resources={"GPU": 1},
        silence_logs=50,
    ) as c:
        yield c


@pytest.fixture
def executor(cluster):
    ex = DaskExecutor(address=cluster.scheduler_address)
    with ex.start():
        yield ex


def echo(*args, **kwargs):
    return args, kwargs


def fail(msg):
    raise KeyError(msg)


class Boom(Exception):
    pass


def raise_boom():
    raise Boom("custom failure")


def test_submit_returns_a_concurrent_future_with_the_result(executor):
    future = executor.submit(echo, 1, "a", x=2)
    assert isinstance(future, Future)
    assert future.result() == ((1, "a"), {"x": 2})


def test_calls_run_in_worker_processes(executor):
    assert executor.submit(os.getpid).result() != os.getpid()


def test_task_keyword_arguments_named_like_dask_options_reach_the_task(executor):
    future = executor.submit(echo, priority=5, workers="w", retries=2, pure=True)
    assert future.result() == ((), {"priority": 5, "workers": "w", "retries": 2, "pure": True})


def test_a_tuple_starting_with_a_callable_stays_data(executor):
    assert executor.submit(echo, (len, "abc")).result() == (((len, "abc"),), {})


def test_closures_travel(executor):
    k = 7
    assert executor.submit(lambda x: x * k, 6).result() == 42


def test_exceptions_keep_their_type_and_message(executor):
    with pytest.raises(KeyError, match="missing-thing"):
        executor.submit(fail, "missing-thing").result()
    with pytest.raises(Boom, match="custom failure"):
        executor.submit(raise_boom).result()


def test_done_callbacks_fire_and_may_submit_more(executor):
    done = threading.Event()
    seen: list[object] = []

    def on_done(future):
        seen.append(threading.current_thread().name)
        # The FlowRunner submits downstream tasks from here.
        follow = executor.submit(echo, future.result()[0][0] + 1)
        follow.add_done_callback(lambda f: (seen.append(f.result()), done.set()))

    executor.submit(echo, 1).add_done_callback(on_done)
    assert done.wait(30)
    assert seen[0] != threading.main_thread().name
    assert seen[1] == ((2,), {})


def test_many_submissions_all_arrive(executor):
    futures = [executor.submit(echo, i) for i in range(200)]
    assert [f.result()[0][0] for f in futures] == list(range(200))


def test_submit_many_keeps_order_and_per_call_errors(executor):
    calls = [(echo, (i,), {"k": i}) for i in range(5)] + [(fail, ("bad",), {})]
    futures = executor.submit_many(calls)
    assert [f.result() for f in futures[:5]] == [((i,), {"k": i}) for i in range(5)]
    with pytest.raises(KeyError, match="bad"):
        futures[5].result()
    assert executor.submit_many([]) == []


def test_an_unpicklable_argument_fails_the_future_not_the_executor(executor):
    future = executor.submit(echo, threading.Lock())
    with pytest.raises(ExecutorError, match="could not send echo to the cluster"):
        future.result()
    good, bad = executor.submit_many([(echo, (1,), {}), (echo, (threading.Lock(),), {})])
    assert good.result() == ((1,), {})
    with pytest.raises(ExecutorError, match="could not send echo"):
        bad.result()


def _scheduler_states(dask_scheduler, prefix):
    return [ts.state for key, ts in dask_scheduler.tasks.items() if str(key).startswith(prefix)]


def test_resources_reach_the_scheduler(cluster):
    ex = DaskExecutor(address=cluster.scheduler_address)
    with ex.start():
        gpu = ex.submit(echo, "gpu", resources=resources_from_tags(["dask-resource:GPU=1"]))
        assert gpu.result() == (("gpu",), {})
        tpu = ex.submit(echo, "tpu", resources={"TPU": 1}, key="needs-tpu")
        # No worker has a TPU: the scheduler holds the task as "no-worker".
        wait_until(
            lambda: (
                ex.client.run_on_scheduler(_scheduler_states, prefix="needs-tpu-") == ["no-worker"]
            ),
            30,
        )
        assert not tpu.done()
    with pytest.raises(ExecutorError, match="still running when the executor stopped"):
        tpu.result()


def test_cancelling_the_future_cancels_the_dask_task(cluster):
    ex = DaskExecutor(address=cluster.scheduler_address)
    with ex.start():
        future = ex.submit(echo, resources={"TPU": 1}, key="to-cancel")
        assert future.cancel()
        wait_until(
            lambda: ex.client.run_on_scheduler(_scheduler_states, prefix="to-cancel-") == [], 30
        )


def kill_own_worker():
    os._exit(1)


def test_a_task_that_kills_its_worker_fails_with_a_clear_error():
    import dask

    # One failure is enough for the scheduler to give the task up (KilledWorker).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        ex = DaskExecutor(
            cluster_kwargs={
                "n_workers": 1,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
        with ex.start():
            future = ex.submit(kill_own_worker, key="suicidal")
            with pytest.raises(ExecutorError, match=r"task suicidal-\w+ was lost: the workers"):
                future.result(timeout=60)
            # The nanny restarted the worker: the cluster goes on.
            assert ex.submit(echo, "after").result(timeout=60) == (("after",), {})


class TestResourcesFromTags:
    def test_parses_resource_tags_and_ignores_others(self):
        tags = ["etl", "dask-resource:GPU=1", "dask-resource:memory=1e9"]
        assert resources_from_tags(tags) == {"GPU": 1.0, "memory": 1e9}

    def test_no_tags(self):
        assert resources_from_tags([]) == {}

    @pytest.mark.parametrize(
        "tag", ["dask-resource:GPU", "dask-resource:GPU=many", "dask-resource:=1"]
    )
    def test_a_malformed_tag_is_named(self, tag):
        with pytest.raises(ExecutorError, match="'dask-resource:NAME=AMOUNT'") as info:
            resources_from_tags([tag])
        assert repr(tag) in str(info.value)


class TestLifecycle:
    def test_a_temporary_cluster_is_closed_after_the_run(self):
        ex = DaskExecutor(
            cluster_kwargs={"n_workers": 1, "processes": False, "dashboard_address": None}
        )
        with ex.start():
            cluster, client = ex.cluster, ex.client
            assert isinstance(cluster, distributed.LocalCluster)
            assert ex.submit(echo, 3).result() == ((3,), {})
        assert cluster.status == distributed.core.Status.closed
        assert client.status == "closed"
        assert ex.client is None and ex.cluster is None

    def test_cluster_class_may_be_an_import_path(self):
        ex = DaskExecutor(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={"n_workers": 1, "processes": False, "dashboard_address": None},
            adapt_kwargs={"minimum": 1, "maximum": 1},
        )
        with ex.start():
            assert ex.submit(echo, 1).result() == ((1,), {})

    def test_a_bad_import_path_is_named(self):
        ex = DaskExecutor(cluster_class="distributed.NoSuchCluster")
        with pytest.raises(ConfigurationError, match="'distributed.NoSuchCluster'"), ex.start():
            pass

    def test_bad_cluster_kwargs_are_named(self):
        ex = DaskExecutor(cluster_kwargs={"processes": False, "n_workers": 1, "colour": "red"})
        with pytest.raises(ExecutorError, match="Check cluster_kwargs"), ex.start():
            pass

    def test_no_scheduler_at_the_address_is_explained(self):
        import socket

        with socket.socket() as s:  # a port that nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ex = DaskExecutor(address=f"tcp://127.0.0.1:{port}", client_kwargs={"timeout": 1})
        with (
            pytest.raises(ExecutorError, match="could not connect to the Dask scheduler"),
            ex.start(),
        ):
            pass

    def test_an_existing_cluster_is_left_running(self, cluster):
        ex = DaskExecutor(address=cluster.scheduler_address)
        with ex.start():
            pass
        assert cluster.status == distributed.core.Status.running

    def test_address_and_cluster_settings_conflict(self):
        with pytest.raises(ValueError, match="not both"):
            DaskExecutor(address="tcp://127.0.0.1:1", cluster_kwargs={"n_workers": 1})

    def test_submit_outside_start(self):
        with pytest.raises(ExecutorError, match="outside `with executor.start"):
            DaskExecutor().submit(echo)

    def test_interface_facts(self):
        assert DaskExecutor.hard_timeouts is False
        assert DaskExecutor(address="tcp://x:1").serialize()["address"] == "tcp://x:1"
