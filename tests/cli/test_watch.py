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
    assert [line.split(" ", 2)[2] for line in lines] == [
        "Scheduled — scheduled",
        "Running — running",
        "Success — success",
    ]
