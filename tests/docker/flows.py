"""Flows the docker tests run in containers (Local storage of this script, or Docker storage)."""

from __future__ import annotations

import os
import sys

from weir import Flow, Parameter, context, task


@task
def greet(name: str) -> str:
    """Log a line to the server, and say where it ran."""
    message = f"hello {name} from {os.uname().nodename} (python {sys.version_info[0]})"
    context.get_logger().info("%s", message)
    return message


with Flow("greet") as greet_flow:
    greet(Parameter("name", default="container"))


@task
def crash(code: int) -> None:
    """Print a last word, then end the process at once (no final state reported)."""
    print(f"about to exit with code {code}", flush=True)
    os._exit(code)


with Flow("crash") as crash_flow:
    crash(Parameter("code", default=3))


@task
def nap(seconds: float) -> float:
    """Sleep (a run the agent can be stopped in the middle of)."""
    import time

    print(f"napping for {seconds} s", flush=True)
    time.sleep(seconds)
    return seconds


with Flow("nap") as nap_flow:
    nap(Parameter("seconds", default=0.0))
