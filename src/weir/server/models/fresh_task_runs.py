"""Task runs a batch creates, built straight into SQLite's rows.

Most items of the engine's batches name a task run no one has stored yet, once
(a run's first batch names every task that ran). For those the general path
(``task_runs._apply_item``) builds a row dict, then ``bulk.bind_values``
converts it column by column: about 16 µs a task run, more than SQLite takes to
store it. Here such an item becomes the driver's tuple in one step, with the
same values (the same id, history entries and JSON text): about 5 µs.

``task_runs.upsert`` says which items qualify: a task run new to the batch
and to the database, named by one item, no version (or 0), every move between
its states allowed. Anything else (a refusal to explain, a task run whose
states span two items) goes the general way. Items of different task runs do
not affect each other, so taking some apart changes no outcome.
"""

from __future__ import annotations

from typing import Any

from weir.schemas import actions, jsontext
from weir.schemas.states import StateData
from weir.state_types import StateType

#: The columns ``row`` fills, in its tuple's order.
COLUMNS = (
    "id",
    "flow_run_id",
    "task_slug",
    "map_index",
    "state_type",
    "state_message",
    "state_timestamp",
    "state_start_time",
    "state_run_count",
    "state_data",
    "version",
    "history",
    "started_at",
    "created",
    "updated",
)

INSERT = f"INSERT INTO task_run ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"


def row(
    item: actions.TaskRunUpsert,
    states: list[StateData],
    task_run_id: str,
    history: list[dict[str, Any]],
    now: float,
) -> tuple[Any, ...]:
    """The SQLite row of a new task run (``task_run_id`` as stored: 32 hex digits)
    whose states are ``item``'s (``states``) and whose ``history`` their entries."""
    last = states[-1].__dict__
    extra = states[-1].__pydantic_extra__
    started = None
    for state in states:
        if state.type is StateType.RUNNING:
            started = state.timestamp
            break
    return (
        task_run_id,
        item.flow_run_id.hex,
        item.task_slug,
        item.map_index,
        last["type"]._value_,
        last["message"],
        last["timestamp"],
        last["start_time"],
        last["run_count"],
        jsontext.dumps_text(extra) if extra else None,
        len(states),
        jsontext.dumps_text(history),
        started,
        now,
        now,
    )
