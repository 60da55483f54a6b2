"""What a resumed flow run keeps of its earlier attempts' task runs.

A task run is kept when it finished well (Success, Cached or Skipped) and its
result can be read back: a Skipped one needs none, the others need the
checkpoint their state points to. A kept task does not run again; the
FlowRunner is given its state instead.

Mapped tasks are kept child by child. The children kept for a task become a
``Mapped`` state whose ``map_states`` list child ``k`` at index ``k`` and
``Pending`` where a child is missing or did not finish well; the FlowRunner then
runs only those (see ``weir.engine.flow_runner._Run._keep_children``). A list
that holds every child finished is the task's whole state, and the task does not
expand again. Children are kept only while the items they were made from are
the same: every task the mapped task maps over is kept too (or is a Parameter,
whose value the run keeps). Otherwise that upstream runs again, may return other
items, and so every child runs again.
"""

from __future__ import annotations

import logging
from typing import Any

from weir.core.task import Parameter
from weir.engine.state import Mapped, Pending, State, StateType, state_from_dict
from weir.state_types import RESTARTABLE_TYPES, SUCCESSFUL_TYPES

logger = logging.getLogger(__name__)

#: States of earlier attempts that a resumed run keeps instead of running again: the
#: successful ones but Mapped, whose children are looked at one by one.
KEEP = SUCCESSFUL_TYPES - {StateType.MAPPED}
#: States of earlier attempts that end a task run badly: the task runs again, and its
#: task run is moved back to Pending first (the server lets such a state move nowhere
#: else), so that this attempt's states are not refused.
REOPEN = RESTARTABLE_TYPES


def kept_state(task_run: Any, reader: Any) -> State | None:
    """A task run's state with its result read back, or None when it is not kept."""
    if task_run.state.type not in KEEP:
        return None
    data = task_run.state.model_dump()
    state = state_from_dict(data)
    if task_run.state.type == StateType.SKIPPED:
        return state
    location = data.get("location")
    if not location:
        return None
    try:
        state.result = reader.read(location).value
    except Exception as exc:  # noqa: BLE001 - an unreadable result means: run again
        index = "" if task_run.map_index == -1 else f"[{task_run.map_index}]"
        logger.warning(
            "Task %s%s: its checkpoint %s cannot be read (%s); it runs again.",
            task_run.task_slug,
            index,
            location,
            exc,
        )
        return None
    return state


def keep_mapped(flow: Any, kept: dict[Any, State], children: dict[Any, dict[int, State]]) -> None:
    """Add a ``Mapped`` state to ``kept`` for each mapped task with children kept.

    ``children`` holds each task's kept children by map index. Tasks are taken in
    the flow's order, so a map over a mapped task sees that task's decision.
    """
    for task in flow.sorted_tasks():
        by_index = children.get(task)
        if not by_index or task in kept:
            continue
        changed = [
            e.upstream_task
            for e in flow.edges_to(task)
            if e.mapped
            and e.upstream_task not in kept
            and not isinstance(e.upstream_task, Parameter)
        ]
        if changed:
            logger.info(
                "Task %s: %d children finished before, but %s runs again and may "
                "give other items, so every child runs again.",
                flow.slugs[task],
                len(by_index),
                ", ".join(sorted(flow.slugs[t] for t in changed)),
            )
            continue
        map_states: list[State] = [Pending()] * (max(by_index) + 1)
        for k, state in by_index.items():
            map_states[k] = state
        kept[task] = Mapped(
            f"{len(by_index)} children kept from an earlier attempt.",
            result=[s.result for s in map_states],
            map_states=map_states,
        )


def reopen(reporter: Any, task_runs: list[Any]) -> None:
    """Move task runs that ended badly in an earlier attempt back to Pending."""
    for tr in task_runs:
        index = None if tr.map_index == -1 else tr.map_index
        reporter.task_run_state(tr.task_slug, index, Pending("Runs again in a new attempt."))


def counts(kept: dict[Any, State]) -> dict[str, int]:
    """The ``flow_run_resumed`` trace event's data: tasks kept, and mapped children kept."""
    children = sum(
        sum(1 for c in s.map_states if c.is_finished()) for s in kept.values() if type(s) is Mapped
    )
    return {"tasks_kept": len(kept), "children_kept": children}
