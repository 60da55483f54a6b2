"""weir.tasks.shell.ShellTask: real shell processes, run by real flows."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from weir import Flow, Parameter
from weir.engine.reporter import InMemoryReporter
from weir.engine.state import Failed, Success, TimedOut
from weir.executors import ThreadExecutor
from weir.tasks.shell import ShellTask
from weir.utilities.waiting import wait_until


def run_one(task: ShellTask, **kwargs):
    with Flow("shell") as flow:
        out = task(**kwargs)
    state = flow.run()
    return state.result[out]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child not yet reaped by its (gone) parent is a zombie: as good as dead.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def wait_gone(pid: int, within: float = 5.0) -> bool:
    wait_until(lambda: not alive(pid), within, f"process {pid} still runs")
    return True


class TestOutput:
    def test_the_last_line_is_the_result(self):
        state = run_one(ShellTask(command="echo one; echo two"))
        assert isinstance(state, Success)
        assert state.result == "two"

    def test_return_all_gives_every_line(self):
        state = run_one(ShellTask(command="printf 'a\\nb\\nc\\n'", return_all=True))
        assert state.result == ["a", "b", "c"]

    def test_no_output_is_none(self):
        assert run_one(ShellTask(command="true")).result is None

    def test_stderr_lines_count_as_output_in_arrival_order(self):
        state = run_one(ShellTask(command="echo out; sleep 0.1; echo err >&2", return_all=True))
        assert state.result == ["out", "err"]

    def test_lines_written_at_once_on_both_streams_keep_their_order(self):
        # As in Prefect 1 (stderr into stdout's pipe): no reordering between streams,
        # and the last line is the last one written, every time.
        command = "echo 1; echo 2 >&2; echo 3; echo '4  ' >&2; echo 5"
        assert run_one(ShellTask(command=command, return_all=True)).result == list("12345")
        last = {run_one(ShellTask(command="echo a; echo b >&2")).result for _ in range(5)}
        assert last == {"b"}

    def test_the_command_given_in_the_flow_wins_over_the_init_one(self):
        state = run_one(ShellTask(command="echo init"), command="echo call")
        assert state.result == "call"

    def test_a_parameter_can_be_the_command(self):
        shell = ShellTask()
        with Flow("shell") as flow:
            cmd = Parameter("cmd")
            out = shell(command=cmd)
        state = flow.run(parameters={"cmd": "echo from-parameter"})
        assert state.result[out].result == "from-parameter"


class TestEnvironmentAndHelper:
    def test_helper_script_runs_first_in_the_same_shell(self, tmp_path):
        task = ShellTask(helper_script=f"cd {tmp_path}\ngreet() {{ echo hi $1; }}")
        state = run_one(task, command="greet there; pwd")
        assert state.result == str(tmp_path)
        state = run_one(task, command="greet there")
        assert state.result == "hi there"

    def test_env_adds_to_the_process_environment(self, monkeypatch):
        monkeypatch.setenv("WEIR_SHELL_INHERITED", "kept")
        task = ShellTask(command="echo $WEIR_SHELL_INHERITED-$EXTRA", env={"EXTRA": "added"})
        assert run_one(task).result == "kept-added"

    def test_another_shell_can_run_the_script(self):
        assert run_one(ShellTask(command="echo $0", shell="sh")).result.endswith(".sh")


class TestFailure:
    def test_a_non_zero_exit_fails_with_the_last_lines_of_output(self):
        task = ShellTask(
            name="copy",
            command="echo starting; echo 'cp: cannot stat x: No such file' >&2; exit 3",
        )
        state = run_one(task)
        assert isinstance(state, Failed)
        assert "exit code 3" in state.message
        assert "starting\ncp: cannot stat x: No such file" in state.message
        # As in Prefect 1, the FAIL carries the output it had.
        assert state.result == "cp: cannot stat x: No such file"

    def test_a_long_line_is_cut_in_the_message_not_in_the_result(self):
        task = ShellTask(command="printf 'x%.0s' $(seq 1 5000); echo; exit 1", return_all=True)
        state = run_one(task)
        assert len(state.message) < 700 and "… (4500 more characters)" in state.message
        assert state.result == ["x" * 5000]

    def test_only_the_last_lines_are_quoted(self):
        task = ShellTask(command="for i in $(seq 1 50); do echo line$i >&2; done; exit 1")
        message = run_one(task).message
        assert "line50" in message and "line46" in message
        assert "line45" not in message

    def test_log_stderr_logs_the_output_at_error(self, caplog):
        task = ShellTask(name="noisy", command="echo bad >&2; exit 1", log_stderr=True)
        with caplog.at_level(logging.INFO, logger="weir"):
            run_one(task)
        errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
        assert "Command failed with exit code 1" in errors
        assert "bad" in errors

    def test_no_command_fails_the_task_and_says_how_to_give_one(self):
        state = run_one(ShellTask(name="nothing"))
        assert isinstance(state, Failed)
        assert "ShellTask 'nothing' has no command" in state.message

    def test_a_bad_stream_output_level_is_refused_at_init(self):
        with pytest.raises(TypeError, match="stream_output='LOUD' is not a log level"):
            ShellTask(name="loud", stream_output="LOUD")


class TestStreaming:
    def test_stream_output_logs_each_line_at_its_level(self, caplog):
        task = ShellTask(
            name="lister", command="echo a; sleep 0.2; echo b >&2", stream_output="WARNING"
        )
        with caplog.at_level(logging.INFO, logger="weir"):
            run_one(task)
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert warned == ["a", "b"]

    def test_stream_output_true_logs_at_info(self, caplog):
        with caplog.at_level(logging.INFO, logger="weir"):
            run_one(ShellTask(name="talker", command="echo hello", stream_output=True))
        assert any(r.getMessage() == "hello" and r.levelno == logging.INFO for r in caplog.records)

    def test_without_stream_output_nothing_is_logged(self, caplog):
        with caplog.at_level(logging.DEBUG, logger="weir"):
            run_one(ShellTask(name="quiet", command="echo secret-ish"))
        assert not any("secret-ish" in r.getMessage() for r in caplog.records)


class TestStopping:
    """The command and every process it started die with the task."""

    COMMAND = "sleep 60 & echo $! > {pidfile}; echo started; wait"

    def _pid(self, pidfile: Path) -> int:
        return int(pidfile.read_text().strip())

    def test_killed_on_the_timeout_in_the_main_thread(self, tmp_path):
        pidfile = tmp_path / "pid"
        task = ShellTask(command=self.COMMAND.format(pidfile=pidfile), timeout=1)
        started = time.monotonic()
        state = run_one(task)
        assert isinstance(state, TimedOut)
        assert time.monotonic() - started < 30
        assert wait_gone(self._pid(pidfile))

    def test_killed_on_the_timeout_on_a_worker_thread(self, tmp_path):
        # Threads cannot be stopped, so here the task's own deadline kills the command.
        pidfile = tmp_path / "pid"
        task = ShellTask(command=self.COMMAND.format(pidfile=pidfile), timeout=1, max_retries=0)
        with Flow("shell") as flow:
            out = task()
        state = flow.run(executor=ThreadExecutor(max_workers=2))
        assert isinstance(state.result[out], TimedOut)
        assert wait_gone(self._pid(pidfile))

    def test_killed_when_the_flow_run_is_cancelled(self, tmp_path):
        pidfile = tmp_path / "pid"

        class CancelLater(InMemoryReporter):
            cancelled = False

            def cancel_requested(self) -> bool:
                return self.cancelled

        reporter = CancelLater()

        def cancel_once_started() -> None:
            try:
                wait_until(pidfile.exists, 10)
            finally:
                reporter.cancelled = True

        threading.Thread(target=cancel_once_started, daemon=True).start()
        task = ShellTask(name="long", command=self.COMMAND.format(pidfile=pidfile))
        with Flow("shell") as flow:
            out = task()
        started = time.monotonic()
        state = flow.run(reporter=reporter)
        assert time.monotonic() - started < 30
        assert isinstance(state.result[out], Failed)
        assert "cancelled" in state.result[out].message
        assert wait_gone(self._pid(pidfile))
