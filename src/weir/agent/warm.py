"""A flow-run process started before its run is known: ``python -m weir.agent.warm``.

Starting Python and importing weir's client and engine takes a few hundred
milliseconds, longer than everything else between a run being claimed and it
running. So the local agent keeps one such process started ahead, with those
imports done, waiting on its stdin. When a run is claimed the agent writes one
JSON line, ``{"flow_run_id": ..., "env": {...}}``, and the process becomes
exactly ``weir execute flow-run ID``: it calls the same entry point of the
execution layer, ``weir.execution.flow_run.main``, that the command calls (the
agent does not load the CLI), while the agent starts the next spare.

A spare never outlives its agent. On end of input without a line it exits: the
agent closes its input when it stops, and the system does when the agent dies.
And, not trusting the pipe alone (a process that inherited its write end would
keep it open), it checks every ``PARENT_CHECK_SECONDS`` that its parent is still
the agent that started it (``WEIR_AGENT_PID``), and exits when not. Once it has
a run it is that run's process and lives as long as the run, as a run started
cold does.
"""

from __future__ import annotations

import json
import os
import select
import sys

from weir.agent import preload

#: How often a waiting spare checks that its agent is still there.
PARENT_CHECK_SECONDS = 0.5


def _agent_pid() -> int:
    """The agent that started this spare (its parent when the agent did not say)."""
    # Taken out of the environment: the run this process becomes has no use for it.
    given = os.environ.pop("WEIR_AGENT_PID", "")
    return int(given) if given.isdigit() else os.getppid()


def wait_for_order(agent: int) -> str:
    """The agent's line; "" when its input ends or the agent is gone."""
    while os.getppid() == agent:
        ready, _, _ = select.select([sys.stdin], [], [], PARENT_CHECK_SECONDS)
        if ready:
            return sys.stdin.readline()
    return ""  # the agent died (this process was handed to another parent)


def main() -> int:
    agent = _agent_pid()
    # A spare starts while the run before it may still be going: import at low priority
    # so the spare never slows a running flow down, and take the normal priority back
    # once it has a run of its own (allowed where the agent may raise priority).
    base = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, min(base + 10, 19))
    # The imports (and the first steps) a flow run needs, done before the run is known,
    # with the libraries the agent was told to preload.
    from weir.execution import flow_run

    _preload(preload.names())
    flow_run.prepare()

    line = wait_for_order(agent)
    if not line.strip():
        return 0
    try:
        os.setpriority(os.PRIO_PROCESS, 0, base)
    except PermissionError:
        pass  # an unprivileged agent: the run keeps the lower priority
    order = json.loads(line)
    # From here on the process is what `weir execute flow-run` would be: no input.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.environ.update({str(k): str(v) for k, v in (order.get("env") or {}).items()})
    run_id = str(order["flow_run_id"])
    sys.argv = ["weir", "execute", "flow-run", run_id]
    return flow_run.main(run_id)


def _preload(modules: list[str]) -> None:
    """Import the libraries the agent was told to preload; one that fails is said on
    stderr and left for the run to import (and fail on, if it must)."""
    for name, error in preload.import_each(modules):
        if error is not None:
            print(f"The spare process could not preload {name}: {error!r}.", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
