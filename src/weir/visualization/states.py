"""What a drawing says about each task's state, in words (shared by every format).

States are read through ``name`` / ``type.value`` / ``map_states`` / ``message``
only, so drawing never imports the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from weir.core.task import Parameter

if TYPE_CHECKING:
    from weir.core.edge import Edge
    from weir.core.task import Task

__all__ = [
    "child_counts",
    "detail",
    "label",
    "mapped_tasks",
    "state_key",
    "state_name",
    "task_states",
]


def task_states(flow_state: Any) -> Mapping[Any, Any]:
    """Task → State from a flow State (or a plain mapping); empty when there is none."""
    if flow_state is None:
        return {}
    result = getattr(flow_state, "result", flow_state)
    # A flow that failed before running any task carries an exception, not a mapping.
    return result if isinstance(result, Mapping) else {}


def mapped_tasks(edges: list[Edge]) -> set[Task]:
    return {e.downstream_task for e in edges if e.mapped}


def state_key(state: Any) -> str:
    """The state's type as a string (``StateType`` value), e.g. "TriggerFailed"."""
    kind = getattr(state, "type", None)
    return str(getattr(kind, "value", None) or type(state).__name__)


def state_name(state: Any) -> str:
    return str(getattr(state, "name", None) or type(state).__name__)


def child_counts(map_states: list[Any], key: Any = state_name) -> list[tuple[str, int]]:
    """(state name, count) of a mapped task's children, most common first."""
    counts: dict[str, int] = {}
    for child in map_states:
        name = key(child)
        counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _state_text(state: Any) -> str:
    """ "Success", or for a mapped state "Mapped: 98 Success, 2 Failed"."""
    name = state_name(state)
    children = getattr(state, "map_states", None)
    if children is None:
        return name
    if not children:
        return f"{name}: no children"
    return f"{name}: " + ", ".join(f"{n} {s}" for s, n in child_counts(children))


def detail(task: Task, is_mapped: bool, state: Any) -> str:
    """What the label says besides the name: kind marks, then the state."""
    parts: list[str] = []
    if isinstance(task, Parameter):
        parts.append("Parameter")
    # A Mapped state already says the task is mapped; any other state does not.
    if is_mapped and getattr(state, "map_states", None) is None:
        parts.append("mapped")
    if state is not None:
        parts.append(_state_text(state))
    return ", ".join(parts)


def label(task: Task, is_mapped: bool, state: Any) -> str:
    text = detail(task, is_mapped, state)
    return f"{task.name} ({text})" if text else task.name
