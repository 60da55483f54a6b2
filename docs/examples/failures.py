# docs: needs a server
# docs: output varies
"""Two runs that go wrong outside any task, and what the server records for each."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from weir.client import Client

WEIR = [sys.executable, "-m", "weir"]
CRASHES = """
import os
from weir import Flow, task

@task
def crash() -> None:
    print("about to die")
    os._exit(3)  # the process ends at once: no state, no traceback

with Flow("crashes") as flow:
    crash()
"""
MOVED = """
from weir import Flow, task

@task
def hello() -> str:
    return "hello"

with Flow("moved") as flow:
    hello()
"""

workdir = Path(tempfile.mkdtemp())
for name, text in (("crashes", CRASHES), ("moved", MOVED)):
    (workdir / f"{name}.py").write_text(text)
    weir_register = [*WEIR, "register", str(workdir / f"{name}.py"), "--label", "failures"]
    subprocess.run(weir_register, check=True, capture_output=True)
(workdir / "moved.py").unlink()  # the script the "moved" flow's storage points at
agent = subprocess.Popen(
    [*WEIR, "agent", "start", "--label", "failures"],
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
try:
    with Client() as client:
        for name in ("crashes", "moved"):
            run = client.create_flow_run(flow_name=name)
            final = client.wait_for_flow_run(run.id, timeout=60)
            message = final.state.message.replace(str(workdir), "<dir>").splitlines()
            print(f"## {name}: {final.state.type.value}")
            print(message[0])
            if len(message) > 1:  # the agent quotes the last lines of the process's output
                quoted = "about to die" in message
                print(f"  (its last output lines; 'about to die' among them: {quoted})")
                print(message[-1])
            # The agent records process_exited when it notices the exit, which may come
            # just after the run's final state: wait for it, so the trace is whole.
            deadline = time.monotonic() + 30
            while True:
                kinds = [e.kind for e in client.get_trace(run.id)]
                if kinds[-1] == "process_exited" or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            # Whether a dying process sent its task's first events before it died is a
            # race (its reporter sends every 0.2 s): show the run's own steps.
            print("trace:", ", ".join(k for k in kinds if not k.startswith("task_")))
            print()
finally:
    agent.send_signal(signal.SIGTERM)
    agent.wait(60)
