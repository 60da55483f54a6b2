"""Real processes for the fencing fault tests: ``weir server start`` and ``weir agent start``.

Each writes its output to a file (read when a test fails); ``stop`` ends it by its
own pid only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import httpx

from weir.server.database.engine import Database
from weir.utilities.waiting import wait_until

#: Seconds of silence after which lazarus presumes a run's process dead, in these tests.
HEARTBEAT_TIMEOUT = 2.0
#: How often a flow-run process heartbeats, in these tests.
HEARTBEAT_SECONDS = 0.3


class Proc:
    """A started weir command and the file its output goes to."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out: IO[str] = open(log, "a")  # closed in stop()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "weir", *args],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown at all."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self._out.close()
        return self.popen.returncode


def base_env(home: Path) -> dict[str, str]:
    return {**os.environ, "WEIR_HOME": str(home), "COLUMNS": "200"}


def start_server(db: Database, port: int, home: Path, log: Path) -> Proc:
    """``weir server start`` with its services, on ``db``, heartbeats judged in seconds."""
    env = base_env(home)
    env.update(
        WEIR_LAZARUS_HEARTBEAT_TIMEOUT=str(HEARTBEAT_TIMEOUT),
        WEIR_LAZARUS_LOOP_SECONDS="0.2",
        WEIR_SCHEDULER_LOOP_SECONDS="60",
    )
    if db.schema:
        env["WEIR_DATABASE_SCHEMA"] = db.schema
    args = ["server", "start", "--port", str(port), "--database-url", db.url]
    proc = Proc([*args, "--log-level", "warning"], env, log)
    wait_until(lambda: _healthy(port) or _died(proc), 60, lambda: proc.output())
    assert proc.popen.poll() is None, proc.output()
    return proc


def start_agent(url: str, home: Path, log: Path, **env: str) -> Proc:
    """``weir agent start`` against ``url``; its runs' processes heartbeat often."""
    full = base_env(home)
    full.update(WEIR_API_URL=url, WEIR_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS), **env)
    return Proc(["agent", "start", "--name", "fence-agent"], full, log)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).is_success
    except httpx.HTTPError:
        return False


def _died(proc: Proc) -> bool:
    return proc.popen.poll() is not None
