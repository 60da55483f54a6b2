"""``weir.tasks.shell``: ``ShellTask``, a task that runs a shell command (Prefect 1's path).

The command (after ``helper_script``, in the same shell) runs from a temporary
script file, as in Prefect 1: stderr goes to the same pipe as stdout, so the lines
come in the order the command wrote them; ``return_all`` returns every output
line, else the last one (trailing whitespace stripped); ``stream_output`` sends
each line to the task's logger as it comes; a non-zero exit raises ``FAIL`` whose
message ends with the command's last lines of output, so it says what went wrong.

The command runs in a process group of its own, which is killed — with
everything the command started — when the task's timeout passes, when its flow
run is cancelled, or when the task stops for any other reason.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

from weir.context import FlowContext, TaskContext, current
from weir.core.task import Task
from weir.engine import signals
from weir.executors.base import TaskTimeoutError
from weir.utilities.tasks import defaults_from_attrs

__all__ = ["ShellTask"]

#: How often a running command's task looks at its deadline and for a cancellation.
_POLL_S = 0.2
#: How many of the command's last lines of output a failure's message quotes.
_TAIL_LINES = 5
#: The most characters of each quoted line: a message is read in a table, a log line
#: and the server's state, where a 100 kB line of output helps nobody.
_TAIL_LINE_CHARS = 500


class ShellTask(Task):
    """Runs a shell command; its output is the task's result.

    Args:
        command: the command to run; also accepted when the task is called in a flow.
        env: environment variables added to this process's for the command.
        helper_script: shell code run before ``command`` in the same shell (``cd``,
            functions, exports); also accepted at call time.
        shell: the shell that runs the script; ``bash`` by default.
        return_all: return every line of output as a list, instead of the last line.
        log_stderr: on a non-zero exit, log the output (every line with
            ``return_all``, else the last) at ERROR; ignored with ``stream_output``.
        stream_output: log each line of output as it comes: ``True`` at INFO, or a
            level (``logging.DEBUG``, ``"WARNING"``).
        **kwargs: the options every Task takes (``name``, ``timeout``,
            ``max_retries``, ...).
    """

    def __init__(
        self,
        command: str | None = None,
        env: dict[str, str] | None = None,
        helper_script: str | None = None,
        shell: str = "bash",
        return_all: bool = False,
        log_stderr: bool = False,
        stream_output: bool | int | str = False,
        **kwargs: Any,
    ) -> None:
        self.command = command
        self.env = env
        self.helper_script = helper_script
        self.shell = shell
        self.return_all = return_all
        self.log_stderr = log_stderr
        self.stream_output = _log_level(stream_output, kwargs.get("name"))
        super().__init__(**kwargs)

    @defaults_from_attrs("command", "env", "helper_script")
    def run(  # type: ignore[override]
        self,
        command: str | None = None,
        env: dict[str, str] | None = None,
        helper_script: str | None = None,
    ) -> str | list[str] | None:
        """Run the command; its last line of output (or every line), None if it printed none.

        Raises:
            FAIL: the command exited with a non-zero code.
            TaskTimeoutError: it ran past the task's timeout (it was killed).
        """
        if command is None:
            raise TypeError(
                f"ShellTask '{self.name}' has no command: pass command='...' when you "
                "create the task or when you call it in the flow."
            )
        script = f"{helper_script}{os.linesep}{command}" if helper_script else command
        full_env = {**os.environ, **(env or {})}
        with tempfile.NamedTemporaryFile("w", prefix="weir-shell-", suffix=".sh") as tmp:
            tmp.write(script)
            tmp.flush()
            lines, code = self._execute([self.shell, tmp.name], full_env)
        last = lines[-1] if lines else None
        if code:
            self._fail(code, lines)
        return lines if self.return_all else last

    # --- running the process ---------------------------------------------------------
    def _execute(self, argv: list[str], env: dict[str, str]) -> tuple[list[str], int]:
        """Run ``argv`` to its end; every output line (stdout and stderr), the exit code."""
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            # A group of its own, so one signal stops the command and all it started.
            start_new_session=sys.platform != "win32",
        )
        assert process.stdout is not None
        lines: list[str] = []
        try:
            for line in self._lines(process, process.stdout):
                lines.append(line)
                if self.stream_output:
                    self.logger.log(self.stream_output, line)
        except BaseException:
            # The engine's own timeout signal lands here too: a command whose task
            # stopped does not go on in the background.
            _kill_group(process)
            raise
        return lines, process.wait()

    def _lines(self, process: subprocess.Popen[bytes], output: IO[bytes]) -> Iterator[str]:
        """The output's lines as they arrive, until it closes.

        Read by a thread of its own, so that this one can look at the deadline and
        for a cancellation while the command is quiet.
        """
        arrived: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        threading.Thread(
            target=_pump, args=(output, arrived), name="weir-shell-output", daemon=True
        ).start()
        deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
        while True:
            try:
                line = arrived.get(timeout=_POLL_S)
            except queue.Empty:
                self._check_still_wanted(process, deadline)
                continue
            if line is None:
                return
            yield line

    def _check_still_wanted(self, process: subprocess.Popen[bytes], deadline: float | None) -> None:
        if deadline is not None and time.monotonic() >= deadline:
            _kill_group(process)
            raise TaskTimeoutError(
                f"ShellTask '{self.name}' ran past its timeout of {self.timeout_s:g} s; "
                "its command was killed."
            )
        if _cancel_requested():
            _kill_group(process)
            raise signals.FAIL(
                f"ShellTask '{self.name}': the flow run was cancelled; its command was killed."
            )

    def _fail(self, code: int, lines: list[str]) -> None:
        message = f"Command failed with exit code {code}"
        self.logger.error(message)
        if self.log_stderr and not self.stream_output and lines:
            self.logger.error("\n".join(lines) if self.return_all else lines[-1])
        tail = [_shortened(line) for line in lines[-_TAIL_LINES:]]
        detail = (":\n" + "\n".join(tail)) if tail else "."
        raise signals.FAIL(
            message + detail, result=lines if self.return_all else (lines[-1] if lines else None)
        )


def _shortened(line: str) -> str:
    if len(line) <= _TAIL_LINE_CHARS:
        return line
    return f"{line[:_TAIL_LINE_CHARS]}… ({len(line) - _TAIL_LINE_CHARS} more characters)"


def _pump(stream: IO[bytes], out: queue.SimpleQueue[str | None]) -> None:
    with stream:
        for raw in iter(stream.readline, b""):
            out.put(raw.decode("utf-8", errors="replace").rstrip())  # as Prefect 1
    out.put(None)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        if sys.platform == "win32":
            process.kill()
        else:
            # The group outlives its leader when the command started others.
            os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _cancel_requested() -> bool:
    """Whether the flow run this task belongs to was asked to stop."""
    ctx = current.get()
    flow = ctx.flow if isinstance(ctx, TaskContext) else ctx
    if not isinstance(flow, FlowContext) or flow.reporter is None:
        return False
    return bool(flow.reporter.cancel_requested())


def _log_level(stream_output: bool | int | str, task_name: str | None) -> int:
    """``stream_output`` as a logging level; 0 means off."""
    if stream_output is True:
        return logging.INFO
    if stream_output is False or stream_output is None:
        return 0
    if isinstance(stream_output, str):
        level = logging.getLevelName(stream_output.upper())
        if not isinstance(level, int):
            raise TypeError(
                f"ShellTask '{task_name or 'ShellTask'}': stream_output={stream_output!r} is "
                "not a log level; pass True, a level such as logging.INFO, or a level name "
                "such as 'DEBUG'."
            )
        return level
    return int(stream_output)
