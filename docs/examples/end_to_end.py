# docs: needs a server
# docs: output varies
"""A flow run start to finish through a real server and a real agent.

Each step is the command a user types; this script runs them in order against
the server at WEIR_API_URL and prints what each printed: register the flow,
start an agent, create a run and watch it, stop the agent, read the trace.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

FLOW_SCRIPT = Path(__file__).resolve().parent / "flows" / "etl_flow.py"
ENV = {**os.environ, "COLUMNS": "200"}
WEIR = [sys.executable, "-m", "weir"]


def section(name: str, edge: str = "start") -> None:
    """Mark a part of the output, so a page can show one step (pymdownx.snippets)."""
    print("--8<-" + f"- [{edge}:{name}]")


def shown(args: tuple[str, ...]) -> str:
    return " ".join("etl_flow.py" if a == str(FLOW_SCRIPT) else a for a in args)


def weir(*args: str) -> str:
    """Run ``weir ARGS`` as a user would; print the command and what it printed."""
    print(f"$ weir {shown(args)}")
    proc = subprocess.run([*WEIR, *args], env=ENV, capture_output=True, text=True)
    print(proc.stdout.rstrip())
    if proc.returncode != 0:
        raise SystemExit(f"weir {shown(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc.stdout


class Agent:
    """``weir agent start`` in the background, its output kept line by line."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [*WEIR, "agent", "start", *args],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, pattern: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(re.search(pattern, line) for line in self.lines):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"The agent never printed {pattern!r}:\n" + "\n".join(self.lines))
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)  # what Ctrl-C or a service manager sends
        self.proc.wait(60)
        self._reader.join(10)
        print(f"$ weir agent start {' '.join(self.args)}")
        print("\n".join(self.lines))


# 1. Registration: the script's flows go to the server; their storage points at the script.
section("register")
weir("register", str(FLOW_SCRIPT), "--label", "walkthrough")
section("register", "end")

# 2. An agent with the flow's label, in the background (in real life: its own terminal).
agent = Agent("--label", "walkthrough", "--name", "docs-agent")
agent.wait_for("waiting for flow runs")

# 3. A run: created Scheduled; the agent claims it and starts `weir execute flow-run ID`.
section("run")
created = weir("run", "walkthrough", "--param", "n=3", "--watch")
run_id = re.search(r"\(([0-9a-f-]{36})\)", created).group(1)
section("run", "end")

# 4. The agent saw the process end; stop the agent (SIGTERM) and show what it printed.
agent.wait_for("exited with code")
section("agent")
agent.stop()
section("agent", "end")

# 5. What happened, as the server recorded it.
section("trace")
weir("flow-run", "trace", run_id)
section("trace", "end")
section("show")
weir("flow-run", "show", run_id)
section("show", "end")
