"""weir: workflow orchestration with Prefect 1's programming model and a fast engine."""

from weir import schedules as schedules
from weir import signals, triggers
from weir.context import context
from weir.core.control_flow import case, merge
from weir.core.flow import Flow
from weir.core.mapping import flatten, mapped, unmapped
from weir.core.task import FunctionTask, Parameter, Task, task
from weir.engine import FlowRunner, TaskRunner

__version__ = "0.1.0"

__all__ = [
    "Flow",
    "FlowRunner",
    "FunctionTask",
    "Parameter",
    "Task",
    "TaskRunner",
    "case",
    "context",
    "flatten",
    "mapped",
    "merge",
    "schedules",
    "signals",
    "task",
    "triggers",
    "unmapped",
]
