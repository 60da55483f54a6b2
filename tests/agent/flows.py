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
