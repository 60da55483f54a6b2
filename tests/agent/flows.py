"""Flows the agent tests register (as Local storage of this very script)."""

from __future__ import annotations

import time

from weir import Flow, Parameter, task


@task
def nap(seconds: float) -> float:
    """Print a line the agent can show when the process dies, then sleep."""
    print(f"napping for {seconds} s", flush=True)
    time.sleep(seconds)
    return seconds


with Flow("nap") as nap_flow:
    nap(Parameter("seconds", default=0.0))


def _bump(path: str, delta: int) -> int:
    """Add ``delta`` to the count of holders in ``path``; return the most seen at once."""
    import fcntl

    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        fields = f.read().split()
        now, most = (int(fields[0]), int(fields[1])) if fields else (0, 0)
        now += delta
        most = max(most, now)
        f.seek(0)
        f.truncate()
        f.write(f"{now} {most}")
    return most


@task(tags=["warehouse"])
def hold(path: str, seconds: float) -> int:
    """Count this task as a holder of the warehouse for ``seconds``."""
    _bump(path, 1)
    time.sleep(seconds)
    return _bump(path, -1)


with Flow("warehouse") as warehouse_flow:
    hold(Parameter("path"), Parameter("seconds", default=0.2))


@task
def write_env(path: str) -> str:
    """Write the variable the run config sets to ``path``."""
    import os

    value = os.environ.get("WEIR_TEST_MARK", "")
    with open(path, "w") as f:
        f.write(value)
    return value


with Flow("env-probe", run_config={"env": {"WEIR_TEST_MARK": "from-run-config"}}) as env_flow:
    write_env(Parameter("path"))


@task
def use_secret(value: str, path: str) -> int:
    """Log the secret (it must come out masked) and write it where the test can check it."""
    use_secret.logger.info("connecting with password %s", value)
    print(f"printed: {value}", flush=True)
    with open(path, "w") as f:
        f.write(value)
    return len(value)


def _secret_flow() -> Flow:
    from weir.tasks.secrets import PrefectSecret

    with Flow("secret-reader") as flow:
        use_secret(PrefectSecret("DB_PASSWORD"), Parameter("path"))
    return flow


secret_flow = _secret_flow()


@task
def double(x: int) -> int:
    double.logger.info("doubling %s", x)
    return 2 * x


@task
def whence() -> str:
    """What the run's context says it was started by (a parent passes ``origin``)."""
    from weir import context

    return context.get("origin", "nobody")


with Flow("child") as child_flow:
    double(Parameter("x", default=1))
    whence()


@task
def record(value: object, path: str) -> object:
    with open(path, "w") as f:
        f.write(repr(value))
    return value


def _parent_flows() -> tuple[Flow, ...]:
    import datetime
    import os

    from weir import unmapped
    from weir.tasks.prefect import (
        StartFlowRun,
        create_flow_run,
        get_task_run_result,
        wait_for_flow_run,
    )

    with Flow("parent") as parent:
        child = create_flow_run(
            flow_name="child", parameters={"x": 21}, context={"origin": "parent"}
        )
        done = wait_for_flow_run(child, stream_logs=True, raise_final_state=True)
        result = get_task_run_result(child, "double-1", poll_time=0.2, upstream_tasks=[done])
        origin = get_task_run_result(child, "whence-1", poll_time=0.2, upstream_tasks=[done])
        record([result, origin], Parameter("path"))

    with Flow("fan-out") as fan_out:
        children = create_flow_run.map(
            flow_name=unmapped("child"), parameters=[{"x": 1}, {"x": 2}, {"x": 3}]
        )
        waited = wait_for_flow_run.map(children, raise_final_state=unmapped(True))
        results = get_task_run_result.map(
            children, unmapped("double-1"), poll_time=unmapped(0.2), upstream_tasks=[waited]
        )
        record(results, Parameter("path"))

    @task(max_retries=1, retry_delay=datetime.timedelta(seconds=0))
    def start_then_fail_once(path: str) -> str:
        run_id = create_flow_run.run(flow_name="child", parameters={"x": 5})
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(run_id)
            raise RuntimeError("failing once after starting the child")
        return run_id

    with Flow("retried-parent") as retried:
        start_then_fail_once(Parameter("path"))

    with Flow("mapped-child") as mapped_child:
        double.map(Parameter("xs", default=[1, 2, 3]))

    with Flow("mapped-reader") as mapped_reader:
        child = create_flow_run(flow_name="mapped-child", parameters={"xs": [5, 6, 7]})
        done = wait_for_flow_run(child, raise_final_state=True)
        one = get_task_run_result(
            child, "double-1", map_index=1, poll_time=0.2, upstream_tasks=[done]
        )
        every = get_task_run_result(child, "double-1", poll_time=0.2, upstream_tasks=[done])
        record([one, every], Parameter("path"))

    with Flow("start-flow-run") as start_flow_run:
        StartFlowRun(flow_name="child", parameters={"x": 3}, wait=True)()

    with Flow("waiting-parent") as waiting:
        wait_for_flow_run(create_flow_run(flow_name="nap", parameters={"seconds": 30}))

    return parent, fan_out, retried, waiting, start_flow_run, mapped_child, mapped_reader


(
    parent_flow,
    fan_out_flow,
    retried_parent_flow,
    waiting_parent_flow,
    start_flow_run_flow,
    mapped_child_flow,
    mapped_reader_flow,
) = _parent_flows()


def _library_flow() -> Flow:
    """ShellTask, resource_manager and apply_map (with a case) on LocalDaskExecutor."""
    import os

    from weir import apply_map, case, resource_manager
    from weir.executors import LocalDaskExecutor
    from weir.tasks.control_flow import merge
    from weir.tasks.shell import ShellTask

    @resource_manager
    class Scratch:
        def __init__(self, root: str) -> None:
            self.root = root

        def setup(self) -> str:
            path = os.path.join(self.root, "scratch")
            os.makedirs(path, exist_ok=True)
            return path

        def cleanup(self, path: str) -> None:
            with open(os.path.join(self.root, "cleaned"), "w") as f:
                f.write(path)

    @task
    def is_even(x: int) -> bool:
        return x % 2 == 0

    def doubled_if_even(x: object) -> object:
        with case(is_even(x), True):
            d = double(x)
        return merge(d, x)

    shell = ShellTask(stream_output=True)
    with Flow("task-library", executor=LocalDaskExecutor(scheduler="threads")) as flow:
        root = Parameter("root")
        with Scratch(root) as scratch:
            listed = shell(
                command="echo made-by-shell > made.txt && cat made.txt",
                helper_script='cd "$SCRATCH"',
                env={"SCRATCH": scratch},
            )
        values = apply_map(doubled_if_even, [1, 2, 3, 4])
        record([listed, values], Parameter("path"))
    return flow


library_flow = _library_flow()


@task
def crash(how: str) -> None:
    """End the run's process at once, as a crash does: ``exit`` or ``segfault``."""
    import os
    import signal

    print(f"crashing by {how}", flush=True)
    if how == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    os._exit(3)


with Flow("crash") as crash_flow:
    crash(Parameter("how", default="exit"))


@task
def nap_beside_a_child(path: str, seconds: float) -> None:
    """Start a process of its own, write both pids to ``path``, then sleep."""
    import os
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])
    with open(path + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    os.replace(path + ".tmp", path)
    time.sleep(seconds)


with Flow("nap-beside-a-child") as nap_beside_a_child_flow:
    nap_beside_a_child(Parameter("path"), Parameter("seconds", default=600.0))


def _approval_flow() -> Flow:
    from weir.triggers import manual_only

    @task(trigger=manual_only)
    def approve(x: float) -> float:
        return x + 1

    with Flow("approval") as flow:
        approve(nap(Parameter("seconds", default=0.0)))
    return flow


approval_flow = _approval_flow()
