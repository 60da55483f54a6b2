"""Prefect 1 flows that log, ported by changing ``prefect`` to ``weir``.

Each flow is written as Prefect 1's logging docs write it
(``docs/core/concepts/logging.md``); each test checks that a local run prints what
Prefect 1's does, in its layout ``[time] LEVEL - name | message``, with ``weir.``
names for ``prefect.`` ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import weir
from weir import Flow, Task, task
from weir.utilities.logging import ENV_LEVEL, ENV_TERMINAL, reset_logging


@pytest.fixture(autouse=True)
def fresh_logging(monkeypatch):
    monkeypatch.delenv(ENV_LEVEL, raising=False)
    monkeypatch.delenv(ENV_TERMINAL, raising=False)
    reset_logging()
    yield
    reset_logging()


def printed(err):
    """The lines printed, without their time."""
    return [line.split("] ", 1)[1] for line in err.splitlines() if line.startswith("[")]


class MyTask(weir.Task):
    def run(self):
        self.logger.info("An info message.")
        self.logger.warning("A warning message.")


@task
def my_task():
    logger = weir.context.get("logger")

    logger.info("An info message.")
    logger.warning("A warning message.")


def test_logging_from_task_classes_and_decorated_tasks(capsys):
    with Flow("logging") as flow:
        MyTask()()
        my_task()
    flow.run()
    assert printed(capsys.readouterr().err) == [
        "INFO - weir.FlowRunner | Beginning Flow run for 'logging'",
        "INFO - weir.MyTask | An info message.",
        "WARNING - weir.MyTask | A warning message.",
        "INFO - weir.my_task | An info message.",
        "WARNING - weir.my_task | A warning message.",
        "INFO - weir.FlowRunner | Flow run SUCCESS: All reference tasks succeeded.",
    ]


def test_the_level_setting(monkeypatch, capsys):
    # Prefect 1: PREFECT__LOGGING__LEVEL=WARNING; weir: WEIR__LOGGING__LEVEL=WARNING.
    monkeypatch.setenv("WEIR__LOGGING__LEVEL", "WARNING")
    with Flow("logging") as flow:
        my_task()
    flow.run()
    assert printed(capsys.readouterr().err) == [
        "WARNING - weir.my_task | A warning message.",
    ]


@task(log_stdout=True)
def log_my_stdout():
    print("I will be logged!")


def test_logging_stdout(capsys):
    with Flow("stdout") as flow:
        log_my_stdout()
    flow.run()
    err = capsys.readouterr().err
    assert any(line.endswith("| I will be logged!") for line in printed(err))


class Divide(Task):
    def run(self, x):
        return 1 / x


def test_debug_shows_each_task_run(monkeypatch, capsys):
    monkeypatch.setenv("WEIR__LOGGING__LEVEL", "DEBUG")
    with Flow("divide") as flow:
        Divide().map([1, 0])
    flow.run()
    lines = printed(capsys.readouterr().err)
    for line in [
        "DEBUG - weir.TaskRunner | Task 'Divide[0]': Starting task run...",
        "DEBUG - weir.TaskRunner | Task 'Divide[0]': Finished task run for task with final "
        "state: 'Success'",
        "ERROR - weir.TaskRunner | Task 'Divide[1]': Exception encountered during task "
        "execution: ZeroDivisionError('division by zero')",
        "DEBUG - weir.TaskRunner | Task 'Divide[1]': Finished task run for task with final "
        "state: 'Failed'",
        "INFO - weir.FlowRunner | Flow run FAILED: Some reference tasks failed.",
    ]:
        assert line in lines


SCRIPT = """
import logging
from weir import Flow, context, task

@task
def extract():
    context.get("logger").info("extracting")
    logging.getLogger("some.library").warning("a library's warning")
    return [1, 2]

@task
def load(rows):
    raise RuntimeError(f"cannot load {rows}")

with Flow("etl") as flow:
    load(extract())

state = flow.run()
print("final state:", state.name)
"""


@pytest.mark.slow
@pytest.mark.integration
def test_a_script_with_no_logging_set_up_prints_the_run(tmp_path: Path):
    # What a user sees running a Prefect 1 flow script as it is: the run's lines, the
    # failure's traceback, and (as Python does with no logging set up) a library's warning.
    script = tmp_path / "etl.py"
    script.write_text(textwrap.dedent(SCRIPT))
    src = Path(__file__).resolve().parents[2] / "src"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIR__LOGGING__")}
    env["PYTHONPATH"] = f"{src}{os.pathsep}{env.get('PYTHONPATH', '')}"
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "final state: Failed\n"
    lines = printed(proc.stderr)
    assert lines[0] == "INFO - weir.FlowRunner | Beginning Flow run for 'etl'"
    assert lines[1] == "INFO - weir.extract | extracting"
    assert "a library's warning\n" in proc.stderr
    assert lines[2] == (
        "ERROR - weir.TaskRunner | Task 'load': Exception encountered during task execution: "
        "RuntimeError('cannot load [1, 2]')"
    )
    assert 'raise RuntimeError(f"cannot load {rows}")' in proc.stderr
    assert lines[-1] == "INFO - weir.FlowRunner | Flow run FAILED: Some reference tasks failed."
