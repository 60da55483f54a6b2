"""The engine: states, signals, triggers, and the runners that turn a flow into states."""

from weir.engine.flow_runner import FlowRunner
from weir.engine.task_runner import TaskRunner

__all__ = ["FlowRunner", "TaskRunner"]
