"""Task runs as the database drivers take them: rows built in one step.

A batch's task runs were rows as dicts, then converted column by column by
``bulk.bind_values`` (SQLAlchemy's own converters): about 16 µs a task run, more
than SQLite takes to store it. They are now built as the driver's tuples in one
step, with the same values (the id as 32 hex digits, the history and extra
state fields as JSON text, the state type by its value): about 5 µs. SQLite
takes them as they are. PostgreSQL takes the same tuples through COPY (its
``uuid`` reads 32 hex digits, its ``jsonb`` reads JSON text), once
``for_postgres`` has cleaned the NULs its text cannot hold (see
``weir.server.database.pg_text``).

``task_runs.upsert`` decides what is written; this module only spells it.
"""

from __future__ import annotations

import uuid
from typing import Any

from weir.schemas import jsontext
from weir.schemas.states import StateData
from weir.server.database.pg_text import NUL, clean_json_text, clean_text

#: What a task run's state sets (with its name): the columns of ``state_values``,
#: ``updated`` last.
_STATE_COLUMNS = (
    "state_type",
    "state_message",
    "state_timestamp",
    "state_start_time",
    "state_run_count",
    "state_data",
    "version",
    "history",
    "started_at",
    "name",
    "updated",
)
#: The columns of ``new_row``'s tuples and of ``changed_row``'s (PostgreSQL's COPY).
NEW_COLUMNS = ("id", "flow_run_id", "task_slug", "map_index", *_STATE_COLUMNS, "created")
CHANGED_COLUMNS = (*_STATE_COLUMNS, "id")

INSERT = (
    f"INSERT INTO task_run ({', '.join(NEW_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in NEW_COLUMNS)})"
)
UPDATE = f"UPDATE task_run SET {', '.join(f'{c} = ?' for c in _STATE_COLUMNS)} WHERE id = ?"
#: The same two statements with PostgreSQL's driver's placeholders (for a few rows; many go
#: through COPY).
INSERT_POSTGRES = INSERT.replace("?", "%s")
UPDATE_POSTGRES = UPDATE.replace("?", "%s")

#: What a task run's state sets, in ``_STATE_COLUMNS``' order (see ``state_values``).
Values = tuple[Any, ...]


def new_row(
    task_run_id: str, flow_run_id: uuid.UUID, task_slug: str, map_index: int, values: Values
) -> tuple[Any, ...]:
    """A new task run's row for ``INSERT`` (``task_run_id`` as stored: 32 hex digits;
    ``values`` from ``state_values``); created when it was updated."""
    return (task_run_id, flow_run_id.hex, task_slug, map_index, *values, values[-1])


def changed_row(task_run_id: str, values: Values) -> tuple[Any, ...]:
    """A stored task run's new ``values`` (from ``state_values``) for ``UPDATE``."""
    return (*values, task_run_id)


def state_values(
    state: StateData,
    version: int,
    history: list[dict[str, Any]],
    started_at: float | None,
    name: str | None,
    now: float,
) -> Values:
    """A task run's values once ``state`` is its last (``history`` all its entries,
    ``name`` what its ``task_run_name`` made)."""
    fields = state.__dict__
    extra = state.__pydantic_extra__
    return (
        fields["type"]._value_,
        fields["message"],
        fields["timestamp"],
        fields["start_time"],
        fields["run_count"],
        jsontext.dumps_text(extra) if extra else None,
        version,
        jsontext.dumps_text(history),
        started_at,
        name,
        now,
    )


def _places(columns: tuple[str, ...], *names: str) -> tuple[int, ...]:
    return tuple(columns.index(name) for name in names if name in columns)


#: Where a row holds text (slug, message, name) and JSON text (extra fields, history).
_TEXT, _JSON = ("task_slug", "state_message", "name"), ("state_data", "history")
_NEW_TEXT, _NEW_JSON = _places(NEW_COLUMNS, *_TEXT), _places(NEW_COLUMNS, *_JSON)
_CHANGED_TEXT, _CHANGED_JSON = _places(CHANGED_COLUMNS, *_TEXT), _places(CHANGED_COLUMNS, *_JSON)
#: JSON's escape for NUL, which PostgreSQL's jsonb refuses.
_JSON_NUL = "\\u0000"


def for_postgres(rows: list[tuple[Any, ...]], *, new: bool) -> list[tuple[Any, ...]]:
    """``rows`` (``new_row``'s, or ``changed_row``'s when not ``new``) as PostgreSQL
    stores them: every NUL in their text and JSON text replaced."""
    return [postgres_row(row, new=new) for row in rows]


def postgres_row(row: tuple[Any, ...], *, new: bool) -> tuple[Any, ...]:
    """One row of ``for_postgres``."""
    text_at, json_at = (_NEW_TEXT, _NEW_JSON) if new else (_CHANGED_TEXT, _CHANGED_JSON)
    return row if _nul_free(row, text_at, json_at) else _cleaned(row, text_at, json_at)


def _nul_free(row: tuple[Any, ...], text_at: tuple[int, ...], json_at: tuple[int, ...]) -> bool:
    for i in text_at:
        if row[i] is not None and NUL in row[i]:
            return False
    for i in json_at:
        if row[i] is not None and _JSON_NUL in row[i]:
            return False
    return True


def _cleaned(
    row: tuple[Any, ...], text_at: tuple[int, ...], json_at: tuple[int, ...]
) -> tuple[Any, ...]:
    values = list(row)
    for i in text_at:
        if values[i] is not None:
            values[i] = clean_text(values[i])
    for i in json_at:
        if values[i] is not None:
            values[i] = clean_json_text(values[i])
    return tuple(values)
