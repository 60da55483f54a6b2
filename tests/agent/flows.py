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
