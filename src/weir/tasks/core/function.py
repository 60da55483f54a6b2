"""``weir.tasks.core.function``: the task ``@task`` makes from a function."""

from weir.core.task import FunctionTask

__all__ = ["FunctionTask"]
