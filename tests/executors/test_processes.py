"""ProcessExecutor: results and errors across processes, hard timeouts, dead workers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from weir.exceptions import ExecutorError
from weir.executors import ProcessExecutor, TaskTimeoutError
from weir.executors.processes import RemoteError
from weir.utilities.waiting import wait_until

pytestmark = pytest.mark.timeout(60)


def add(a, b=0):
    return a + b


def pid_then_sleep(pid_file, seconds):
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
    return "woke"


def wait_for_file(path, value):
    # Blocks until the test creates ``path``: proves this call was in flight meanwhile.
    deadline = time.monotonic() + 30
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return "gave up"
        time.sleep(0.01)
    return value


def exit_now(code):
    os._exit(code)


def segfault():
    import ctypes

    ctypes.string_at(0)


def raise_value_error(msg):
    raise ValueError(msg)


class NeedsTwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")


def raise_unpicklable_exception():
    raise NeedsTwoArgs("x", "y")


def return_a_lock():
    return threading.Lock()


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def read_pid(path: Path) -> int:
    wait_until(lambda: path.exists() and path.read_text(), 30, "never started", interval=0.01)
    return int(path.read_text())


@pytest.fixture
def executor():
    ex = ProcessExecutor(max_workers=2)
    with ex.start():
        yield ex


def test_runs_calls_in_other_processes(executor):
    futures = [executor.submit(add, i, b=10) for i in range(6)]
    assert executor.wait(futures) == [10, 11, 12, 13, 14, 15]
    assert executor.submit(os.getpid).result() != os.getpid()


def test_closures_and_lambdas_are_cloudpickled(executor):
    offset = 100

    def inner(x):
        return x + offset

    assert executor.submit(inner, 1).result() == 101
    assert executor.submit(lambda: offset * 2).result() == 200


def test_exceptions_keep_their_type_and_message(executor):
    future = executor.submit(raise_value_error, "bad input 42")
    with pytest.raises(ValueError, match="bad input 42") as info:
        future.result()
    assert "raise_value_error" in str(info.value.__cause__)  # the worker's traceback


def test_an_exception_that_cannot_travel_is_named(executor):
    with pytest.raises(RemoteError, match=r"test_processes\.NeedsTwoArgs: x/y"):
        executor.submit(raise_unpicklable_exception).result()


def test_an_unpicklable_argument_fails_the_future_not_the_executor(executor):
    future = executor.submit(add, threading.Lock())
    with pytest.raises(ExecutorError, match="could not send add to a worker process"):
        future.result()
    assert executor.submit(add, 1, 2).result() == 3


def test_an_unpicklable_return_value_is_explained(executor):
    with pytest.raises(RemoteError, match="return_a_lock returned a value of type 'lock'"):
        executor.submit(return_a_lock).result()


def test_timeout_kills_the_worker(tmp_path):
    ex = ProcessExecutor(max_workers=1)
    pid_file = tmp_path / "pid"
    with ex.start():
        # Warm the one worker up: a function of this module makes it import this
        # module, so the timed call surely reaches its first line before the limit
        # (os.getpid alone did not, and a loaded machine ran out the 0.5 s importing).
        assert ex.submit(add, 1).result() == 1
        first_pid = ex.submit(os.getpid).result()
        future = ex.submit(pid_then_sleep, str(pid_file), 60, timeout=0.5)
        with pytest.raises(TaskTimeoutError, match=r"pid_then_sleep ran past its timeout of 0.5"):
            future.result()
        assert read_pid(pid_file) == first_pid
        assert pid_gone(first_pid)
        # The pool goes on with a fresh worker.
        assert ex.submit(os.getpid).result() not in (first_pid, os.getpid())
        assert first_pid not in ex.worker_pids()


def test_a_key_names_the_call_in_errors(executor):
    future = executor.submit(pid_then_sleep, os.devnull, 60, timeout=0.2, key="Task 'load'")
    with pytest.raises(TaskTimeoutError, match="Task 'load' ran past its timeout of 0.2 s"):
        future.result()


def test_a_kill_does_not_lose_other_calls_in_flight(executor, tmp_path):
    release = tmp_path / "release"
    other = executor.submit(wait_for_file, str(release), "still here")
    slow = executor.submit(pid_then_sleep, str(tmp_path / "pid"), 60, timeout=0.5)
    with pytest.raises(TaskTimeoutError):
        slow.result()
    assert not other.done()
    release.touch()
    assert other.result() == "still here"


def test_a_call_without_timeout_is_not_killed(executor):
    assert executor.submit(pid_then_sleep, os.devnull, 0.2, timeout=None).result() == "woke"


def test_a_dead_worker_fails_only_its_own_future(executor, tmp_path):
    release = tmp_path / "release"
    other = executor.submit(wait_for_file, str(release), "fine")
    dead = executor.submit(exit_now, 7)
    with pytest.raises(ExecutorError, match=r"running exit_now died .*exit code 7"):
        dead.result()
    release.touch()
    assert other.result() == "fine"
    assert executor.submit(add, 1).result() == 1


def test_workers_dying_in_a_row_fail_only_their_own_calls(executor):
    # The property that keeps this pool over pebble's, whose pool broke whole under
    # such a burst in bench/process_pool_bench.py: each death is one call's failure.
    dying = [executor.submit(exit_now, 3) for _ in range(6)]
    fine = executor.submit(add, 5, b=1)
    for future in dying:
        with pytest.raises(ExecutorError, match=r"running exit_now died .*exit code 3"):
            future.result()
    assert fine.result() == 6
    assert executor.submit(add, 1).result() == 1


def test_a_segfault_is_reported_with_its_signal(executor):
    with pytest.raises(ExecutorError, match="SIGSEGV"):
        executor.submit(segfault).result()
    assert executor.submit(add, 4).result() == 4


def test_workers_stop_when_the_executor_stops():
    ex = ProcessExecutor(max_workers=2)
    with ex.start():
        ex.wait([ex.submit(add, i) for i in range(4)])
        pids = ex.worker_pids()
    assert pids
    assert all(pid_gone(p) for p in pids)
    with pytest.raises(ExecutorError, match="outside `with executor.start"):
        ex.submit(add, 1)


def test_an_error_in_the_run_kills_calls_still_running(tmp_path):
    ex = ProcessExecutor(max_workers=1)
    pid_file = tmp_path / "pid"
    with pytest.raises(RuntimeError, match="flow run failed"), ex.start():
        future = ex.submit(pid_then_sleep, str(pid_file), 60)
        pid = read_pid(pid_file)
        raise RuntimeError("flow run failed")
    with pytest.raises(ExecutorError, match="torn down"):
        future.result()
    assert pid_gone(pid)


def test_calls_queue_beyond_max_workers():
    ex = ProcessExecutor(max_workers=1)
    with ex.start():
        futures = [ex.submit(os.getpid) for _ in range(5)]
        assert len(set(ex.wait(futures))) == 1


def test_a_fork_context_can_be_chosen():
    ex = ProcessExecutor(max_workers=1, mp_context="fork")
    with ex.start():
        assert ex.submit(add, 1, 1).result() == 2
    assert ex.serialize() == {"type": "ProcessExecutor", "max_workers": 1, "mp_context": "fork"}


def test_an_unknown_context_is_named():
    with (
        pytest.raises(ExecutorError, match="cannot use mp_context 'threads'"),
        ProcessExecutor(mp_context="threads").start(),
    ):
        pass


def test_interface_facts():
    assert ProcessExecutor.hard_timeouts is True
    with pytest.raises(ValueError, match="max_workers >= 1"):
        ProcessExecutor(max_workers=0)


def test_a_task_defined_in_main_runs(tmp_path):
    script = tmp_path / "flow_script.py"
    script.write_text(
        textwrap.dedent(
            """
            from weir.executors import ProcessExecutor

            def double(x):
                return 2 * x

            if __name__ == "__main__":
                ex = ProcessExecutor(max_workers=1)
                with ex.start():
                    print(ex.submit(double, 21).result())
            """
        )
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "42"


def test_workers_that_cannot_start_fail_the_calls_instead_of_looping(tmp_path):
    # An unguarded script: under "spawn" every worker imports it again and so tries
    # to start a pool of its own while bootstrapping, which fails: no worker ever
    # gets ready. The parent must give up with advice, not respawn forever.
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            """
            from weir.executors import ProcessExecutor

            ex = ProcessExecutor(max_workers=1)
            with ex.start():
                ex.submit(abs, -1).result(timeout=60)
            """
        )
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "ProcessExecutor's worker processes exited before they were ready" in out.stderr
    assert 'if __name__ == "__main__":' in out.stderr
