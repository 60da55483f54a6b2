"""The graph layer: tasks, flows, parameters and edges (Prefect 1's ``prefect.core``). No I/O."""

from weir.core.edge import Edge
from weir.core.flow import Flow
from weir.core.task import Parameter, Task

__all__ = ["Edge", "Flow", "Parameter", "Task"]


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
