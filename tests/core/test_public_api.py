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

#: Every public name a Prefect 1 flow imports, at its Prefect 1 path with prefect -> weir.
PREFECT_1_PATHS = {
    "weir": [
        "Flow", "Task", "Parameter", "DateTimeParameter", "task", "tags", "context",
        "unmapped", "mapped", "flatten", "case", "apply_map", "resource_manager",
    ],
    "weir.core": ["Flow", "Task", "Parameter", "Edge"],
    "weir.core.flow": ["Flow"],
    "weir.core.task": ["Task", "Parameter"],
    "weir.core.edge": ["Edge"],
    "weir.core.parameter": ["Parameter", "DateTimeParameter"],
    "weir.engine.state": ["State", "Success", "Failed", "Skipped", "Mapped", "Paused"],
    "weir.engine.signals": [
        "SUCCESS", "FAIL", "TRIGGERFAIL", "VALIDATIONFAIL", "RETRY", "SKIP", "LOOP", "PAUSE",
        "ENDRUN",
    ],
    "weir.engine.results": ["Result", "LocalResult"],
    "weir.engine.cache_validators": [
        "never_use", "duration_only", "all_inputs", "all_parameters", "partial_inputs_only",
        "partial_parameters_only",
    ],
    "weir.engine.flow_runner": ["FlowRunner"],
    "weir.engine.task_runner": ["TaskRunner"],
    "weir.tasks.core.constants": ["Constant"],
    "weir.tasks.core.function": ["FunctionTask"],
    "weir.tasks.core.collections": ["List", "Tuple", "Set", "Dict"],
    "weir.tasks.core.operators": [
        "Add", "Sub", "Mul", "Div", "FloorDiv", "Mod", "Pow", "And", "Or", "Not", "Equal",
        "NotEqual", "GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual",
        "GetItem", "GetAttr",
    ],
    "weir.tasks.core.resource_manager": ["resource_manager", "ResourceManager"],
    "weir.tasks.control_flow": ["ifelse", "switch", "merge", "case", "FilterTask"],
    "weir.tasks.control_flow.conditional": ["ifelse", "switch", "merge", "CompareValue"],
    "weir.tasks.control_flow.case": ["case"],
    "weir.tasks.control_flow.filter": ["FilterTask"],
    "weir.utilities.edges": ["unmapped", "mapped", "flatten"],
    "weir.utilities.tasks": ["task", "tags", "defaults_from_attrs", "apply_map"],
    "weir.utilities.logging": ["get_logger"],
    "weir.schedules": [
        "Schedule", "IntervalSchedule", "CronSchedule", "RRuleSchedule", "clocks", "filters",
        "adjustments", "schedules",
    ],
    "weir.schedules.clocks": [
        "Clock", "ClockEvent", "IntervalClock", "CronClock", "DatesClock", "RRuleClock",
    ],
    "weir.schedules.filters": [
        "on_datetime", "on_date", "at_time", "between_datetimes", "between_times",
        "between_dates", "is_weekday", "is_weekend", "is_month_end", "is_month_start",
        "is_day_of_week",
    ],
    "weir.schedules.adjustments": ["add", "next_weekday"],
    "weir.schedules.schedules": ["Schedule", "IntervalSchedule", "CronSchedule", "RRuleSchedule"],
    "weir.triggers": ["all_successful", "all_finished", "any_failed", "manual_only"],
    "weir.executors": ["LocalExecutor", "DaskExecutor"],
}  # fmt: skip
for _module, _names in PREFECT_1_PATHS.items():
    PUBLIC.setdefault(_module, [])
    PUBLIC[_module] += [n for n in _names if n not in PUBLIC[_module]]

CASES = [(module, name) for module, names in PUBLIC.items() for name in names]


@pytest.mark.parametrize(("module", "name"), CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_name_is_importable(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is not None


def test_one_object_behind_both_paths() -> None:
    import weir
    from weir.engine import signals, triggers

    assert weir.signals.SKIP is signals.SKIP
    assert weir.triggers.all_successful is triggers.all_successful


def test_prefect_1_paths_lead_to_the_same_objects() -> None:
    import weir
    import weir.core.control_flow as old_home
    from weir.core.builtins import Constant
    from weir.core.mapping import flatten, mapped, unmapped
    from weir.schedules import schedules
    from weir.tasks import control_flow
    from weir.tasks.core import constants, function
    from weir.utilities import edges, tasks

    assert control_flow.case is weir.case is old_home.case
    assert control_flow.merge is weir.merge is old_home.merge
    assert constants.Constant is Constant and function.FunctionTask is weir.FunctionTask
    assert (edges.unmapped, edges.mapped, edges.flatten) == (unmapped, mapped, flatten)
    assert tasks.task is weir.task and tasks.tags is weir.tags
    assert schedules.Schedule is weir.schedules.Schedule


def test_the_graph_layer_imports_neither_the_engine_nor_the_task_library() -> None:
    # weir.core sits below the engine; control flow (which raises SKIP) lives above it.
    # Only the compatibility module weir.core.control_flow points up, and nothing in core
    # imports it.
    import ast
    from pathlib import Path

    import weir.core

    upward = ("weir.engine", "weir.tasks")
    found = []
    for path in Path(weir.core.__file__).parent.glob("*.py"):
        if path.name == "control_flow.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found += [
                f"{path.name}: {n}"
                for n in names
                if n.startswith(upward + ("weir.core.control_flow",))
            ]
    assert found == []
