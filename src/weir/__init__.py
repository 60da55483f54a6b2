"""weir: workflow orchestration with Prefect 1's programming model and a fast engine.

The public names (``from weir import Flow, task, ...``) are loaded on first use, so
that a process which needs only part of weir (the server, the CLI's ``--help``, an
agent) does not pay for the engine, the executors and the task library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Eager: `weir.context` is both a module and the object below; binding the object
# first keeps `from weir import context` the object whatever is imported later.
from weir.context import context
from weir.wiring import (
    set_agent_runner,
    set_default_registrar,
    set_default_runner,
    set_default_visualizer,
    set_engine_defaults,
    set_flow_files,
)

if TYPE_CHECKING:
    from weir import schedules, signals, triggers
    from weir.client import Client
    from weir.core.apply_map import apply_map
    from weir.core.flow import Flow
    from weir.core.mapping import flatten, mapped, unmapped
    from weir.core.parameter import DateTimeParameter
    from weir.core.task import FunctionTask, Parameter, Task, tags, task
    from weir.engine import FlowRunner, TaskRunner
    from weir.tasks.control_flow import case, merge
    from weir.tasks.core.resource_manager import resource_manager

__version__ = "0.1.0"

#: public name -> the module that defines it (a submodule when the name is the module).
_LAZY = {
    "schedules": "weir.schedules",
    "signals": "weir.signals",
    "triggers": "weir.triggers",
    "apply_map": "weir.core.apply_map",
    "Flow": "weir.core.flow",
    "flatten": "weir.core.mapping",
    "mapped": "weir.core.mapping",
    "unmapped": "weir.core.mapping",
    "DateTimeParameter": "weir.core.parameter",
    "FunctionTask": "weir.core.task",
    "Parameter": "weir.core.task",
    "Task": "weir.core.task",
    "tags": "weir.core.task",
    "task": "weir.core.task",
    "FlowRunner": "weir.engine",
    "TaskRunner": "weir.engine",
    "case": "weir.tasks.control_flow",
    "merge": "weir.tasks.control_flow",
    "resource_manager": "weir.tasks.core.resource_manager",
    "Client": "weir.client",
}


def _run_flow(flow: Flow, **kwargs: Any) -> Any:
    # The engine is loaded when a flow first runs, not when weir is imported.
    from weir.engine.flow_runner import run_flow

    return run_flow(flow, **kwargs)


def _register_flow(flow: Flow, **kwargs: Any) -> Any:
    # Imported on first use: registration pulls in the HTTP client and storage.
    from weir.registration import register_flow

    return register_flow(flow, **kwargs)


def _run_agent(flow: Flow, **kwargs: Any) -> None:
    # Imported on first use: the agent, its client and its processes.
    from weir.agent.for_flow import run_agent

    run_agent(flow, **kwargs)


def _flow_files() -> Any:
    # Imported on first use: saving a flow to a file is rare.
    from weir.storage import flow_files

    return flow_files


def _visualize_flow(flow: Flow, **kwargs: Any) -> str:
    # Imported on first use: drawing is rarely needed by a running flow.
    from weir.visualization import visualize

    return visualize(flow, **kwargs)  # type: ignore[no-any-return]


def _engine_default(name: str) -> Any:
    # Imported when a task's default trigger or cache validator is first read.
    from weir.engine import cache_validators, triggers

    if name == "all_successful":
        return triggers.all_successful
    return getattr(cache_validators, name)


# The graph layer (weir.core) imports nothing above it; Flow.run, Flow.register and
# Flow.visualize reach the engine, the client and the drawing through these slots
# (weir.wiring), which the package fills here: every import of a weir module runs this
# file first, so they are always set, and without loading the graph layer itself.
set_default_runner(_run_flow)
set_default_registrar(_register_flow)
set_default_visualizer(_visualize_flow)
set_engine_defaults(_engine_default)
set_flow_files(_flow_files)
set_agent_runner(_run_agent)


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        # weir.utilities, weir.engine, ...: a subpackage on first access (weir._submodules).
        from weir._submodules import submodule

        value = globals()[name] = submodule(__name__, name)
        return value
    module = importlib.import_module(module_name)
    value = module if module_name == f"weir.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Client",
    "DateTimeParameter",
    "Flow",
    "FlowRunner",
    "FunctionTask",
    "Parameter",
    "Task",
    "TaskRunner",
    "apply_map",
    "case",
    "context",
    "flatten",
    "mapped",
    "merge",
    "resource_manager",
    "schedules",
    "signals",
    "tags",
    "task",
    "triggers",
    "unmapped",
]
