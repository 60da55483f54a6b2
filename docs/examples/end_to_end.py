# docs: needs a server
# docs: output varies
"""A flow run start to finish through a real server: register, run, claim, execute, trace.

Each step is the command a user (or the agent) types; this script runs them in
order against the server at WEIR_API_URL and prints what each printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from weir.client import Client

FLOW_SCRIPT = Path(__file__).resolve().parent / "flows" / "etl_flow.py"
ENV = {**os.environ, "COLUMNS": "200"}


def section(name: str, edge: str = "start") -> None:
    """Mark a part of the output, so a page can show one step (pymdownx.snippets)."""
    print("--8<-" + f"- [{edge}:{name}]")


def weir(*args: str) -> str:
    """Run ``weir ARGS`` as a user would; print the command and what it printed."""
    shown = " ".join(a if a != str(FLOW_SCRIPT) else "etl_flow.py" for a in args)
    print(f"$ weir {shown}")
    proc = subprocess.run(
        [sys.executable, "-m", "weir", *args], env=ENV, capture_output=True, text=True
    )
    if proc.stdout.strip():
        print(proc.stdout.rstrip())
    else:  # `weir execute` logs to stderr; its exit code says whether the run ended
        print(f"(exit code {proc.returncode})")
    if proc.returncode != 0:
        raise SystemExit(f"weir {shown} exited {proc.returncode}:\n{proc.stderr}")
    return proc.stdout


# 1. Registration: the script's flows go to the server; their storage points at the script.
section("register")
weir("register", str(FLOW_SCRIPT), "--label", "walkthrough")
section("register", "end")

# 2. A run: `weir run` creates it Scheduled (the scheduler does the same for schedules).
section("run")
created = weir("run", "walkthrough", "--param", "n=3")
run_id = re.search(r"\(([0-9a-f-]{36})\)", created).group(1)
section("run", "end")

# 3. The claim: what `weir agent start --label walkthrough` does on each poll.
section("claim")
with Client() as client:
    claimed = client.claim(["walkthrough"], limit=1)
print(f"claimed: {[r.name for r in claimed]} -> {[r.state.type.value for r in claimed]}")
section("claim", "end")

# 4. The process the agent starts for the run.
section("execute")
weir("execute", "flow-run", run_id)
section("execute", "end")

# 5. What happened, as the server recorded it.
section("trace")
weir("flow-run", "trace", run_id)
section("trace", "end")
section("show")
weir("flow-run", "show", run_id)
section("show", "end")
