"""``weir.tasks.control_flow``: branching and filtering (``prefect.tasks.control_flow``).

- ``with case(task, value):`` the tasks made inside run only when ``task``'s result
  equals ``value``;
- ``switch(condition, {value: task, ...})`` runs the task whose key matches;
- ``ifelse(condition, true_task, false_task)`` runs one of two tasks on the
  condition's truth;
- ``merge(a, b, ...)`` takes the result of whichever branch ran;
- ``FilterTask`` drops unwanted items (by default None and exceptions) from a list
  of results, typically a mapped task's.

The tasks that did not run end ``Skipped``, and the skip flows downstream unless a
task sets ``skip_on_upstream_skip=False``.
"""

from weir.tasks.control_flow.case import case
from weir.tasks.control_flow.conditional import CompareValue, Merge, ifelse, merge, switch
from weir.tasks.control_flow.filter import FilterTask

__all__ = ["CompareValue", "FilterTask", "Merge", "case", "ifelse", "merge", "switch"]


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
