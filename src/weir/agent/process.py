"""A flow-run process the local agent started: its pid, exit code and last lines of output.

The process runs in a session of its own, so that a Ctrl-C meant for the agent
does not reach it (the agent decides when its runs stop), and so that stopping
it stops whatever it started too (a process pool, say). Its stdout and stderr
are read by a thread into a bounded buffer: the agent keeps the last lines to
explain a process that died, never the whole output.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

logger = logging.getLogger(__name__)

#: How many lines of a process's output the agent keeps.
TAIL_LINES = 50
#: Longer lines are cut to this many characters (a failure message stays readable).
MAX_LINE = 1000


class RunProcess:
    """What a run's process offers however it was started (spawned or forked): its
    output read into a bounded tail (each line also to ``on_line``) and ``stop()``."""

    pid: int
    on_line: Callable[[str], None] | None

    def _start_reading(self, stream: TextIO, tail_lines: int) -> None:
        self._tail: deque[str] = deque(maxlen=tail_lines)
        self._reader = threading.Thread(
            target=self._read, args=(stream,), name=f"weir-agent-output-{self.pid}", daemon=True
        )
        self._reader.start()

    def _read(self, stream: TextIO) -> None:
        with stream:
            for line in stream:
                line = line.rstrip("\n")
                if len(line) > MAX_LINE:
                    line = line[:MAX_LINE] + " …"
                self._tail.append(line)
                if self.on_line is not None:
                    self.on_line(line)

    def tail(self, wait: float = 2.0) -> list[str]:
        """The last lines of output (after waiting up to ``wait`` s for the rest to be read)."""
        self._reader.join(wait)
        return list(self._tail)

    def poll(self) -> int | None:
        raise NotImplementedError

    def wait(self, timeout: float | None = None) -> int:
        raise NotImplementedError

    def signal_group(self, signum: int) -> None:
        raise NotImplementedError

    def stop(self, timeout: float = 5.0) -> int:
        """Ask the process to stop (SIGTERM), kill it after ``timeout`` s; its exit code."""
        if self.poll() is not None:
            return self.wait()
        self.signal_group(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning(
                "Process %s: still running %.0f s after SIGTERM; killing it.", self.pid, timeout
            )
            self.signal_group(signal.SIGKILL)
            return self.wait()


class FlowRunProcess(RunProcess):
    """One child process with its output read into a bounded buffer."""

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        *,
        on_line: Callable[[str], None] | None = None,
        tail_lines: int = TAIL_LINES,
        cwd: str | None = None,
        stdin_pipe: bool = False,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self.args = list(args)
        self._popen = subprocess.Popen(
            self.args,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # No descriptor of the agent's reaches the child: a run started while a spare
            # waits must not hold the spare's input open (the spare would not see it end).
            close_fds=True,
            pass_fds=tuple(pass_fds),
            text=True,
            errors="replace",
            bufsize=1,
        )
        self.pid = self._popen.pid
        #: Called with each line of output (may be set after the start).
        self.on_line = on_line
        assert self._popen.stdout is not None  # started with stdout=PIPE
        self._start_reading(self._popen.stdout, tail_lines)

    def send(self, text: str) -> None:
        """Write ``text`` to the process's input (started with ``stdin_pipe``) and close it."""
        stream = self._popen.stdin
        if stream is None:
            raise ValueError(f"Process {self.pid} was started without an input pipe.")
        try:
            stream.write(text)
            stream.flush()
        finally:
            stream.close()

    def poll(self) -> int | None:
        """The exit code once the process has ended, else None."""
        return self._popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self._popen.wait(timeout)

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the process and everything it started."""
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass  # already gone
        except PermissionError:
            # The session leader exited and its id was reused; signal the child alone.
            if self.poll() is None:
                self._popen.send_signal(signum)
