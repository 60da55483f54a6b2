"""The public names DESIGN.md promises, importable where a Prefect 1 user looks for them."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "weir": [
        "task",
        "Task",
        "Flow",
        "Parameter",
        "case",
        "merge",
        "unmapped",
        "flatten",
        "signals",
        "triggers",
        "context",
        "FlowRunner",
        "TaskRunner",
    ],
    "weir.executors": ["LocalExecutor", "ThreadExecutor", "Executor"],
    "weir.engine": ["FlowRunner", "TaskRunner"],
    "weir.engine.state": [
        "State",
        "Pending",
        "Scheduled",
        "Submitted",
        "Running",
        "Success",
        "Failed",
        "Retrying",
        "Skipped",
        "TriggerFailed",
        "TimedOut",
        "Cancelled",
        "Cached",
        "Mapped",
        "Looped",
        "Paused",
        "StateType",
    ],
    "weir.signals": ["SUCCESS", "FAIL", "RETRY", "SKIP", "ENDRUN", "LOOP", "PAUSE"],
    "weir.triggers": [
        "all_successful",
        "all_failed",
        "any_successful",
        "any_failed",
        "all_finished",
        "always_run",
        "not_all_skipped",
        "some_successful",
        "some_failed",
        "manual_only",
    ],
}
CASES = [(module, name) for module, names in PUBLIC.items() for name in names]


@pytest.mark.parametrize(("module", "name"), CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_name_is_importable(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is not None


def test_one_object_behind_both_paths() -> None:
    import weir
    from weir.engine import signals, triggers

    assert weir.signals.SKIP is signals.SKIP
    assert weir.triggers.all_successful is triggers.all_successful
