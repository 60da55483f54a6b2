"""`weir run --watch` prints each state once, even when the history runs ahead of the run read."""

from __future__ import annotations

from types import SimpleNamespace

from weir.cli import flow_runs
from weir.engine.state import StateType


def _item(version: int, kind: StateType) -> SimpleNamespace:
    state = SimpleNamespace(type=kind, message=kind.value.lower(), timestamp=1e9 + version)
    return SimpleNamespace(version=version, state=state)


class _RacingServer:
    """The run is read at version 2, then its history already holds version 3 (Success)."""

    history = [
        _item(1, StateType.SCHEDULED),
        _item(2, StateType.RUNNING),
        _item(3, StateType.SUCCESS),
    ]

    def __init__(self) -> None:
        self.reads = 0

    def get_flow_run(self, _id: str) -> SimpleNamespace:
        self.reads += 1
        return self.history[1] if self.reads == 1 else self.history[2]

    def flow_run_states(self, _id: str) -> list[SimpleNamespace]:
        return self.history

    def get_logs(self, _id: str, after_id: int) -> SimpleNamespace:
        return SimpleNamespace(logs=[], next_after_id=after_id)


def test_each_state_is_printed_once(capsys) -> None:
    assert flow_runs._watch(_RacingServer(), "run", poll=0) is StateType.SUCCESS
    lines = capsys.readouterr().out.splitlines()
    # Each line: date, time, zone, then the state and its message.
    assert [line.split(" ", 3)[3] for line in lines] == [
        "Scheduled — scheduled",
        "Running — running",
        "Success — success",
    ]


class _LoggingServer(_RacingServer):
    """A run whose log line (t=1e9+2.5) falls between its Running and Success states."""

    def get_logs(self, _id: str, after_id: int) -> SimpleNamespace:
        if after_id:
            return SimpleNamespace(logs=[], next_after_id=after_id)
        line = SimpleNamespace(
            level=20,
            name="weir.task_run",
            task_slug="a",
            map_index=None,
            timestamp=1e9 + 2.5,
            message="hello",
        )
        return SimpleNamespace(logs=[line], next_after_id=1)


def test_states_and_log_lines_are_printed_in_time_order(capsys) -> None:
    flow_runs._watch(_LoggingServer(), "run", poll=0)
    out = capsys.readouterr().out
    assert out.index("Running") < out.index("hello") < out.index("Success")


class _Interrupted:
    def get_flow_run(self, _id: object) -> None:
        raise KeyboardInterrupt


def test_ctrl_c_says_the_run_goes_on_and_how_to_cancel_it(capsys) -> None:
    import uuid

    import pytest

    run = SimpleNamespace(id=uuid.UUID("53bdb111-0000-4000-8000-000000000000"), name="etl-1")
    with pytest.raises(SystemExit) as stopped:
        flow_runs._watch_until_interrupted(_Interrupted(), run)
    assert stopped.value.code == 130
    out = " ".join(capsys.readouterr().out.split())
    assert "Flow run etl-1 (53bdb111-0000-4000-8000-000000000000) goes on" in out
    assert "`weir flow-run cancel 53bdb111`" in out
    assert "`weir flow-run logs -f 53bdb111`" in out


def test_times_show_their_zone(monkeypatch) -> None:
    import time

    from weir.cli.api_options import when

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        assert when(1_800_000_000.0) == "2027-01-15 09:00:00 CET"
    finally:
        monkeypatch.undo()
        time.tzset()
