"""``weir.tasks.core.constants``: the task that stands for a constant value in the graph."""

from weir.core.builtins import Constant

__all__ = ["Constant"]
