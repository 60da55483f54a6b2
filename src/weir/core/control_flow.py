"""``weir.core.control_flow``: kept for code that imported ``case`` and ``merge`` from here.

Branching lives in ``weir.tasks.control_flow`` (Prefect 1's
``prefect.tasks.control_flow``): its tasks raise the engine's signals, which the
graph layer does not import. Nothing in ``weir.core`` imports this module.
"""

from weir.tasks.control_flow import CompareValue, Merge, case, merge

__all__ = ["CompareValue", "Merge", "case", "merge"]
