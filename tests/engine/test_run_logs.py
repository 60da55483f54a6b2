"""The log lines of a local run: on the terminal in Prefect 1's layout, in the run's log,
and in the application's own handlers, with the root logger left as the application set it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from weir import Flow, context, task
from weir.engine.reporter import InMemoryReporter
from weir.executors import Executor
from weir.utilities.logging import ENV_LEVEL, ENV_TERMINAL, reset_logging


@pytest.fixture(autouse=True)
def fresh_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test's first run sets logging up from the environment the test gives."""
    monkeypatch.delenv(ENV_LEVEL, raising=False)
    monkeypatch.delenv(ENV_TERMINAL, raising=False)
    reset_logging()
    yield
    reset_logging()


@task
def hello(x: int | None = None) -> None:
    context.get("logger").info("hello %s", x)


@task
def boom() -> None:
    raise ValueError("kaboom")


def lines(err: str) -> list[str]:
    """Each printed line without its time: ``LEVEL - name | message``."""
    return [line.split("] ", 1)[1] for line in err.splitlines() if line.startswith("[")]


def test_a_local_run_prints_its_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with Flow("greet") as flow:
        hello(1)
        hello.map([2])
    flow.run()
    assert lines(capsys.readouterr().err) == [
        "INFO - weir.FlowRunner | Beginning Flow run for 'greet'",
        "INFO - weir.hello | hello 1",
        "INFO - weir.hello[0] | hello 2",
        "INFO - weir.FlowRunner | Flow run SUCCESS: All reference tasks succeeded.",
    ]


def test_a_tasks_error_is_printed_with_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with Flow("fails") as flow:
        boom()
    flow.run()
    err = capsys.readouterr().err
    assert (
        "ERROR - weir.TaskRunner | Task 'boom': Exception encountered during task execution: "
        "ValueError('kaboom')\nTraceback (most recent call last):"
    ) in err
    assert 'raise ValueError("kaboom")' in err
    assert lines(err)[-1] == (
        "INFO - weir.FlowRunner | Flow run FAILED: Some reference tasks failed."
    )


def test_task_runs_start_and_end_at_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Flow("f") as flow:
        hello.map([1, 2])
    flow.run()
    assert "Starting task run" not in capsys.readouterr().err
    monkeypatch.setenv(ENV_LEVEL, "DEBUG")
    reset_logging()
    flow.run()
    printed = lines(capsys.readouterr().err)
    assert "DEBUG - weir.TaskRunner | Task 'hello[1]': Starting task run..." in printed
    assert (
        "DEBUG - weir.TaskRunner | Task 'hello[1]': Finished task run for task with final "
        "state: 'Success'"
    ) in printed


def test_a_higher_level_hides_info(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_LEVEL, "ERROR")
    with Flow("f") as flow:
        hello()
        boom()
    flow.run()
    assert [line.split(" |")[0] for line in lines(capsys.readouterr().err)] == [
        "ERROR - weir.TaskRunner"
    ]


def test_the_applications_handlers_get_the_lines_and_the_root_stays_as_it_was(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_TERMINAL, "false")  # the application prints them itself
    root = logging.getLogger()
    out = io.StringIO()
    mine = logging.StreamHandler(out)
    mine.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.addHandler(mine)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        with Flow("f") as flow:
            hello(1)
        before = [h for h in root.handlers]
        flow.run()
        assert root.handlers == before and root.level == logging.INFO
        logging.getLogger("app").info("the application's own line")
    finally:
        root.removeHandler(mine)
        root.setLevel(level)
    assert out.getvalue().splitlines() == [
        "weir.FlowRunner: Beginning Flow run for 'f'",
        "weir.hello: hello 1",
        "weir.FlowRunner: Flow run SUCCESS: All reference tasks succeeded.",
        "app: the application's own line",
    ]
    assert capsys.readouterr().err == ""


def test_lines_reach_the_run_log_when_weir_does_not_propagate(executor: Executor) -> None:
    weir = logging.getLogger("weir")
    weir.propagate = False
    try:
        with Flow("f") as flow:
            one = hello(1)
            many = hello.map([2, 3])
        reporter = InMemoryReporter()
        flow.run(executor=executor, reporter=reporter)
    finally:
        weir.propagate = True
    got = {(slug, k, r["name"], r["message"]) for slug, k, r in reporter.logs}
    assert (flow.slugs[one], None, "weir.hello", "hello 1") in got
    assert (flow.slugs[many], 1, "weir.hello[1]", "hello 3") in got
    # Each record once: the handler on the root lets weir's records by.
    task_lines = [r for slug, _, r in reporter.logs if slug is not None]
    assert len([m for *_, m in got if m.startswith("hello")]) == len(task_lines) == 3
    ends = [r for slug, _, r in reporter.logs if slug is None and "Flow run" in r["message"]]
    assert len(ends) == 1  # the FlowRunner's own line, the run's too
