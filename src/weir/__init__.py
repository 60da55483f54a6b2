"""weir: workflow orchestration with Prefect 1's programming model and a fast engine."""

from weir import schedules as schedules
from weir import signals, triggers
from weir.context import context
from weir.core.apply_map import apply_map
from weir.core.flow import Flow, set_default_registrar, set_default_visualizer
from weir.core.mapping import flatten, mapped, unmapped
from weir.core.parameter import DateTimeParameter
from weir.core.task import FunctionTask, Parameter, Task, tags, task
from weir.engine import FlowRunner, TaskRunner
from weir.tasks.control_flow import case, merge
from weir.tasks.core.resource_manager import resource_manager

__version__ = "0.1.0"


def _register_flow(flow: Flow, **kwargs: object) -> object:
    # Imported on first use: registration pulls in the HTTP client.
    from weir.registration import register_flow

    return register_flow(flow, **kwargs)  # type: ignore[arg-type]


def _visualize_flow(flow: Flow, **kwargs: object) -> str:
    # Imported on first use: drawing is rarely needed by a running flow.
    from weir.visualization import visualize

    return visualize(flow, **kwargs)  # type: ignore[arg-type]


set_default_registrar(_register_flow)
set_default_visualizer(_visualize_flow)

__all__ = [
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
