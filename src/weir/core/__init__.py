"""The graph layer: tasks, flows, parameters and edges (Prefect 1's ``prefect.core``). No I/O."""

from weir.core.edge import Edge
from weir.core.flow import Flow
from weir.core.task import Parameter, Task

__all__ = ["Edge", "Flow", "Parameter", "Task"]
