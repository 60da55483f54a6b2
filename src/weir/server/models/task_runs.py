"""Task runs: created on first sight by the batch upsert, keyed by (flow run, slug, map index).

The batch endpoint is the engine's hot path to the server, so it works in bulk:
one query reads the task runs a batch names, the items are checked in memory
in the order sent (several items may touch one task run), and two bulk
statements write the new task runs and the changed ones. A task run's state
history is a JSON list in its own row, so a task run reported as Running then
Success is one row written, not three. Each item is accepted or refused on its
own; a refused item changes nothing. An item whose states are the last ones its
task run took (same types, same timestamps) is one sent again because its
batch's answer was lost: it is accepted and changes nothing.

``_apply_item`` decides; the rows are spelled apart, as the driver's tuples
(``task_run_rows``): SQLite takes them in two ``executemany`` statements,
PostgreSQL through COPY (``pg_bulk``), or a few of them as one statement each
(``bulk.few``). An item that creates its task run alone in its batch (most of the
engine's) skips the bookkeeping (``_fresh``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Protocol

from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from weir.exceptions import InvalidTransition
from weir.schemas import actions, jsontext, responses
from weir.schemas.states import StateData
from weir.server.database import orm, pg_text
from weir.server.errors import NotFound
from weir.server.models import bulk, states, task_run_rows
from weir.state_types import (
    ALLOWED_TRANSITIONS,
    FINISHED_TYPES,
    PENDING_TYPES,
    StateType,
    check_transition,
)

#: Task-run ids are derived, not random: uuid5 of "<flow run id>/<task slug>/<map index>"
#: (empty index when not mapped) in this namespace. The engine derives the same id
#: for its context (``weir.context``), so both sides name a task run alike before
#: they have ever talked.
TASK_RUN_NAMESPACE = uuid.UUID("5f0c6a1e-8d3b-4c2a-9e47-1b6d2f3a9c10")

#: A task run's key in a batch: its flow run's id as an int (hashed in C, where a UUID's
#: hash is a Python call, three times per item), its slug and map index.
Key = tuple[int, str, int]


@dataclass(slots=True)
class _Current:
    """A task run as the batch sees it while applying items in order."""

    id: uuid.UUID
    type: Any
    version: int
    is_new: bool
    history: list[dict[str, Any]]
    started_at: float | None
    #: What its ``task_run_name`` made, as stored or as an accepted item gave it.
    name: str | None = None
    #: Its last state once an item of it is accepted: the batch writes it then.
    state: StateData | None = None


def _known_runs(session: Session, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, bool]:
    """Those of the flow runs that exist, each with whether it has task runs stored."""
    return {run_id: bool(stored) for run_id, stored in session.execute(_RUNS, {"ids": run_ids})}


#: The flow runs (``ids``) that exist, and whether each has task runs: a run's first
#: batch (most batches of short runs) then skips looking up keys that cannot be found.
_RUNS = select(orm.FlowRun.id, exists().where(orm.TaskRun.flow_run_id == orm.FlowRun.id)).where(
    orm.FlowRun.id.in_(bindparam("ids", expanding=True))
)


def _load(
    session: Session, keys: list[Key], runs: dict[int, uuid.UUID], stored: set[int]
) -> dict[Key, _Current]:
    """The task runs with these keys that exist, as the batch's starting point
    (``runs``: the flow run ids, by their int; ``stored``: the ints of those with
    task runs)."""
    found: dict[Key, _Current] = {}
    # One probe of an index per run said which runs have task runs; the lookup of a
    # thousand keys takes milliseconds.
    keys = [k for k in keys if k[0] in stored]
    if not keys:
        return found
    query = _load_sqlite if _is_sqlite(session) else _load_postgres
    found.update(query(session, keys, runs))
    return found


#: A run's task runs by (slug, map index), the pairs given as one JSON parameter: SQLite
#: reads them in C and, walking them first (CROSS JOIN keeps that order), finds each in
#: the unique index. An IN list of a thousand bound values costs SQLAlchemy more than
#: the query, and an IN (subquery) scans every child of a mapped task. Run through the
#: driver: SQLAlchemy's typed results (a UUID for each id, JSON decoded by a processor)
#: took most of the time a batch of a thousand stored task runs spent looking them up.
_SQLITE_COLUMNS = (
    "t.id, t.task_slug, t.map_index, t.state_type, t.version, t.history, t.started_at, t.name"
)
_SQLITE_BY_KEYS = (
    f"SELECT {_SQLITE_COLUMNS} FROM json_each(?) AS k CROSS JOIN task_run AS t"
    " ON t.flow_run_id = ? AND t.task_slug = json_extract(k.value, '$[0]')"
    " AND t.map_index = json_extract(k.value, '$[1]')"
)
_SQLITE_BY_KEY = (
    f"SELECT {_SQLITE_COLUMNS} FROM task_run AS t"
    " WHERE t.flow_run_id = ? AND t.task_slug = ? AND t.map_index = ?"
)
#: A state type by its stored value, without the Enum call's lookup machinery.
_STATE_TYPES = {t.value: t for t in StateType}


def _load_sqlite(
    session: Session, keys: list[Key], runs: dict[int, uuid.UUID]
) -> list[tuple[Key, _Current]]:
    # No row locks on SQLite: the write transaction already holds the database.
    by_run: dict[int, list[tuple[str, int]]] = {}
    for run, slug, index in keys:
        by_run.setdefault(run, []).append((slug, index))
    connection = session.connection()
    found: list[tuple[Key, _Current]] = []
    for run, pairs in by_run.items():
        run_hex = runs[run].hex  # as the Uuid column stores it
        rows = list(
            connection.exec_driver_sql(_SQLITE_BY_KEYS, (jsontext.dumps_text(pairs), run_hex))
        )
        # SQLite's JSON functions cut text at a NUL, which its columns keep: such a
        # slug (rare) is looked up as it is.
        for slug, index in pairs:
            if "\x00" in slug:
                rows.extend(connection.exec_driver_sql(_SQLITE_BY_KEY, (run_hex, slug, index)))
        for task_run_id, slug, index, *stored in rows:
            found.append(((run, slug, index), _stored(uuid.UUID(task_run_id), *stored)))
    return found


def _stored(
    task_run_id: uuid.UUID,
    state_type: str,
    version: int,
    history: str,
    started_at: float | None,
    name: str | None,
) -> _Current:
    """A stored task run as a lookup reads it through the driver (history as JSON text)."""
    history_list = jsontext.loads(history)
    state = _STATE_TYPES[state_type]
    return _Current(task_run_id, state, version, False, history_list, started_at, name)


#: PostgreSQL: three arrays, three parameters, whatever the batch's size. IN lists of a
#: thousand bound values cost SQLAlchemy tens of milliseconds to compile, and once the
#: driver prepares the statement, its generic plan took 0.3 s for 1,000 stored rows.
#: The arrays' product may hold a few pairs beyond the keys, which the exact match drops.
#: Each array cast to its column's type: PostgreSQL hashes a long array for ANY only
#: when the two sides' types compare by hash, and the driver sends small ints as
#: smallint: against the int column, a run of 20,000 stored task runs took 86 ms a
#: lookup of a thousand keys instead of 4. Run through the driver, the history read
#: as JSON text (decoded as SQLite's is): SQLAlchemy's typed rows and the driver's
#: JSON loader took about half of a lookup of a thousand stored task runs, and the
#: driver's list dumper a tenth (the map indexes go as one array literal).
_POSTGRES_BY_KEYS = (
    "SELECT id, flow_run_id::text, task_slug, map_index, state_type, version,"
    " history::text, started_at, name FROM task_run WHERE flow_run_id = ANY(%s::uuid[])"
    " AND task_slug = ANY(%s::text[]) AND map_index = ANY(%s::int[]) FOR UPDATE"
)


def _load_postgres(
    session: Session, keys: list[Key], runs: dict[int, uuid.UUID]
) -> list[tuple[Key, _Current]]:
    from weir.server.models import pg_bulk  # psycopg: installed with the postgres extra

    # Always FOR UPDATE on PostgreSQL: two batches naming one task run take turns.
    # By the key as stored (a NUL in a slug is stored cleaned), to the key as sent.
    wanted = {
        (run, slug if "\x00" not in slug else pg_text.clean_text(slug), index): (run, slug, index)
        for run, slug, index in keys
    }
    run_of = {str(runs[run]): run for run in {k[0] for k in keys}}  # by the id as text
    indexes = ",".join(map(str, sorted({k[2] for k in keys})))
    params = (sorted(run_of), sorted({k[1] for k in wanted}), f"{{{indexes}}}")
    with pg_bulk.driver_cursor(session, orm.TaskRun.__table__) as cursor:
        cursor.execute(_POSTGRES_BY_KEYS, params)
        rows = cursor.fetchall()
    return [
        (wanted[key], _stored(task_run_id, *stored))
        for task_run_id, run_id, slug, index, *stored in rows
        if (key := (run_of[run_id], slug, index)) in wanted
    ]


def _id_prefix(flow_run_id: uuid.UUID) -> bytes:
    """What every task-run id of this flow run hashes first (once per run in a batch)."""
    return TASK_RUN_NAMESPACE.bytes + f"{flow_run_id}/".encode()


def _derived_id(prefix: bytes, task_slug: str, map_index: int) -> uuid.UUID:
    """The id a task run gets (see TASK_RUN_NAMESPACE), from its run's ``_id_prefix``."""
    return uuid.UUID(bytes=_derived_bytes(prefix, task_slug, map_index))


def _derived_bytes(prefix: bytes, task_slug: str, map_index: int) -> bytes:
    """``_derived_id``'s 16 bytes."""
    # uuid5 by hand (RFC 4122 version and variant bits) on a prefix hashed into once per
    # run: the same value as uuid.uuid5 in a third of its time, which a batch of a
    # thousand new task runs notices.
    index = b"" if map_index < 0 else str(map_index).encode()
    digest = bytearray(hashlib.sha1(prefix + task_slug.encode() + b"/" + index).digest()[:16])
    digest[6] = digest[6] & 0x0F | 0x50  # version 5
    digest[8] = digest[8] & 0x3F | 0x80  # variant 10
    return bytes(digest)


def _state_fields(state: StateData) -> dict[str, Any]:
    return {
        "state_type": state.type,
        "state_message": state.message,
        "state_timestamp": state.timestamp,
        "state_start_time": state.start_time,
        "state_run_count": state.run_count,
        "state_data": _data(state),
    }


def _data(state: StateData) -> dict[str, Any] | None:
    return state.extra_data() or None


def history_entry(state: StateData, version: int, submitted: float | None = None) -> dict[str, Any]:
    """One entry of ``task_run.history``: the state (its set fields) and the version it made."""
    # Straight from the model's __dict__: a batch builds two of these per task run, and
    # attribute access plus the enum's .value property cost half of it.
    fields = state.__dict__
    out: dict[str, Any] = {"type": fields["type"]._value_, "timestamp": fields["timestamp"]}
    for name in _OPTIONAL_STATE_FIELDS:
        if fields[name] is not None:
            out[name] = fields[name]
    if state.__pydantic_extra__:
        out.update(state.__pydantic_extra__)
    if submitted is None:
        return {"version": version, "state": out}
    return {"version": version, "state": out, "submitted": submitted}


_OPTIONAL_STATE_FIELDS = ("message", "start_time", "run_count")


def upsert(
    session: Session, items: list[actions.TaskRunUpsert], now: float, *, accepted: bool = True
) -> list[dict[str, Any]]:
    """Apply a batch of task-run states in order; report each item's outcome
    (``accepted=False``: only the refused items' outcomes, all a stored batch's
    writer uses, each with its item's ``position`` in ``items``).

    The outcomes are plain dicts with the fields of ``responses.TaskRunWritten``
    (the API validates them once, on the way out).
    """
    runs = {i.flow_run_id.int: i.flow_run_id for i in items}
    known = _known_runs(session, list(runs.values()))
    named = Counter((i.flow_run_id.int, i.task_slug, i.map_index) for i in items)
    current = _load(session, list(named), runs, {run.int for run, has in known.items() if has})
    prefixes = {run_id.int: _id_prefix(run_id) for run_id in known}
    results = []
    with _new_rows(session) as new:
        for position, item in enumerate(items):
            key = (item.flow_run_id.int, item.task_slug, item.map_index)
            prefix = prefixes.get(key[0])
            states = item.new_states()
            if prefix is not None and _alone(item, states, key, named, current):
                id_bytes = _fresh(item, states, prefix, now, new)
                if accepted:
                    task_run_id = uuid.UUID(bytes=id_bytes)
                    results.append(_outcome(item, task_run_id, len(states), states[-1].type, None))
                continue
            outcome = _apply_item(item, states, current, prefixes, now)
            if accepted:
                results.append(outcome)
            elif not outcome["accepted"]:
                results.append(_at(position, outcome))
        # A task run first seen in an item that was refused is not created.
        written = [(key, c) for key, c in current.items() if c.state is not None]
        for key, c in written:
            if c.is_new:
                new.append(_new_row(c, runs[key[0]], key[1], key[2], now))
    changed = [_changed_row(c, now) for _, c in written if not c.is_new]
    if changed:
        _write_changed(session, changed)
    return results


class _Rows(Protocol):
    def append(self, row: tuple[Any, ...], /) -> None: ...


@contextmanager
def _new_rows(session: Session) -> Iterator[_Rows]:
    """Where a batch puts the rows of the task runs it creates (``append``), before the
    changed ones are written. SQLite: a list, inserted in one ``executemany`` when the
    block ends. PostgreSQL: a COPY opened once the rows are more than a few, each row
    sent as it is built, so that PostgreSQL stores the first while the batch builds the
    next (NULs cleaned row by row): a batch of a thousand new task runs as the engine
    sends them took 31-35 ms instead of 41-45 to write, in one process. A few rows go
    as one INSERT each, sent together (a COPY costs a round trip more)."""
    if _is_sqlite(session):
        rows: list[tuple[Any, ...]] = []
        yield rows
        if rows:
            session.connection().exec_driver_sql(task_run_rows.INSERT, rows)
        return
    with ExitStack() as stack:
        copied = _CopiedRows(session, stack)
        yield copied
        if copied.held:  # a few rows: one INSERT each, sent together, no COPY
            session.connection().exec_driver_sql(task_run_rows.INSERT_POSTGRES, copied.held)


class _CopiedRows:
    """New task runs' rows sent into a COPY as they come (PostgreSQL; see ``_new_rows``),
    once there are more than a few (``bulk.few``): those are held, then inserted."""

    def __init__(self, session: Session, stack: ExitStack) -> None:
        self._session = session
        self._stack = stack
        self._write: Callable[[tuple[Any, ...]], None] | None = None
        #: The rows held while they are few.
        self.held: list[tuple[Any, ...]] = []

    def append(self, row: tuple[Any, ...]) -> None:
        row = task_run_rows.postgres_row(row, new=True)
        if self._write is not None:
            self._write(row)
            return
        self.held.append(row)
        if not bulk.few(self._session, len(self.held)):
            from weir.server.models import pg_bulk  # psycopg: installed with the postgres extra

            columns = task_run_rows.NEW_COLUMNS
            copy = pg_bulk.copy_into(self._session, orm.TaskRun.__table__, columns)
            self._write = self._stack.enter_context(copy)
            held, self.held = self.held, []
            for one in held:
                self._write(one)


def _write_changed(session: Session, changed: list[tuple[Any, ...]]) -> None:
    """Write the stored task runs' new values (``changed_row``'s tuples): one
    ``executemany`` on SQLite; on PostgreSQL an UPDATE from a COPY, or for a few
    (``bulk.few``) one UPDATE each, sent together."""
    if _is_sqlite(session):
        session.connection().exec_driver_sql(task_run_rows.UPDATE, changed)
        return
    rows = task_run_rows.for_postgres(changed, new=False)
    if bulk.few(session, len(rows)):  # one UPDATE each, sent together: no temporary table
        session.connection().exec_driver_sql(task_run_rows.UPDATE_POSTGRES, rows)
        return
    from weir.server.models import pg_bulk  # psycopg: installed with the postgres extra

    columns = task_run_rows.CHANGED_COLUMNS
    pg_bulk.update_values(session, orm.TaskRun.__table__, columns, rows, "id")


def _new_row(
    cur: _Current, flow_run_id: uuid.UUID, slug: str, index: int, now: float
) -> tuple[Any, ...]:
    return task_run_rows.new_row(cur.id.hex, flow_run_id, slug, index, _values(cur, now))


def _changed_row(cur: _Current, now: float) -> tuple[Any, ...]:
    return task_run_rows.changed_row(cur.id.hex, _values(cur, now))


def _values(cur: _Current, now: float) -> task_run_rows.Values:
    assert cur.state is not None
    return task_run_rows.state_values(
        cur.state, cur.version, cur.history, cur.started_at, cur.name, now
    )


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _alone(
    item: actions.TaskRunUpsert,
    states: list[StateData],
    key: Key,
    named: Counter[Key],
    current: dict[Key, _Current],
) -> bool:
    """Whether ``item`` creates its task run and is accepted, whatever else the batch
    holds: new to the database, named by no other item, no version (or 0), every
    move between its states allowed (see ``_fresh``)."""
    return (
        named[key] == 1
        and key not in current
        and item.version in (None, 0)
        and _moves_allowed(states)
    )


def _moves_allowed(states: list[StateData]) -> bool:
    """Whether each state may follow the one before it."""
    for before, after in pairwise(states):
        if not _may_move(before.type, after.type):
            return False
    return True


def _fresh(
    item: actions.TaskRunUpsert,
    states: list[StateData],
    prefix: bytes,
    now: float,
    rows: _Rows,
) -> bytes:
    """Add the row of the new task run ``item`` (its ``states``) creates to ``rows``;
    its id's bytes. What ``_apply_item`` would do for it, without its bookkeeping."""
    id_bytes = _derived_bytes(prefix, item.task_slug, item.map_index)
    history = _entries(states, 0, item.submitted)
    started = _started_at(None, states)
    values = task_run_rows.state_values(states[-1], len(states), history, started, item.name, now)
    rows.append(
        task_run_rows.new_row(
            id_bytes.hex(), item.flow_run_id, item.task_slug, item.map_index, values
        )
    )
    return id_bytes


def _entries(
    states: list[StateData], version: int, submitted: float | None
) -> list[dict[str, Any]]:
    """History entries of ``states``, numbered on from ``version``; the first one
    carries the item's ``submitted`` time."""
    entries = []
    for state in states:
        version += 1
        entries.append(history_entry(state, version, submitted))
        submitted = None
    return entries


def upsert_each(
    session: Session, items: list[actions.TaskRunUpsert], now: float, *, accepted: bool = True
) -> list[dict[str, Any]]:
    """``upsert`` one item at a time, each in a savepoint of its own.

    For a batch the database refused a value of (a DataError fails the whole
    statement): the items it can store are written, and the others refused.
    """
    outcomes: list[dict[str, Any]] = []
    with bulk.one_by_one(session):  # COPY, whose refusal names the value's column
        for position, item in enumerate(items):
            try:
                with session.begin_nested():
                    written = upsert(session, [item], now, accepted=accepted)
            except DataError as exc:
                reason = f"The database cannot store a value of this item: {bulk.reason(exc)}"
                written = [_outcome(item, None, None, None, reason)]
            outcomes.extend(written if accepted else [_at(position, o) for o in written])
    return outcomes


def _at(position: int, outcome: dict[str, Any]) -> dict[str, Any]:
    """A refused ``outcome`` marked with its item's position in the batch."""
    outcome["position"] = position
    return outcome


def _apply_item(
    item: actions.TaskRunUpsert,
    new_states: list[StateData],
    current: dict[Key, _Current],
    prefixes: dict[int, bytes],
    now: float,
) -> dict[str, Any]:
    """Apply one item (its ``new_states``) in memory; return its outcome
    (TaskRunWritten fields).

    ``prefixes`` holds the flow runs that exist (by their id's int), each with its
    task-run id prefix.
    """
    run = item.flow_run_id.int
    prefix = prefixes.get(run)
    if prefix is None:
        reason = f"There is no flow run with id {item.flow_run_id}."
        return _outcome(item, None, None, None, reason)
    key = (run, item.task_slug, item.map_index)
    cur = current.get(key)
    if cur is None:
        new_id = _derived_id(prefix, item.task_slug, item.map_index)
        cur = current[key] = _Current(new_id, None, 0, True, [], None)
    known_id = cur.id if not cur.is_new or cur.version else None
    if cur.history and _applied_already(cur, item, new_states):
        # The same states again: a batch sent twice because its answer was lost.
        return _outcome(item, cur.id, cur.version, cur.type, None)
    if item.version is not None and item.version != cur.version:
        reason = (
            f"Task run {item.task_slug}[{item.map_index}] is at version "
            f"{cur.version}, not {item.version}; the state was not written."
        )
        return _outcome(item, known_id, cur.version, None, reason)
    # Every move is checked before any is applied: the item is taken whole or not at all.
    type_ = cur.type
    for state in new_states:
        if type_ is not None and not _may_move(type_, state.type):
            try:
                check_transition(type_, state.type, subject=f"task run {item.task_slug}")
            except InvalidTransition as exc:
                return _outcome(item, known_id, cur.version, None, str(exc))
        type_ = state.type
    cur.started_at = _started_at(cur.started_at, new_states, cur.history)
    cur.history = [*cur.history, *_entries(new_states, cur.version, item.submitted)]
    cur.version += len(new_states)
    cur.type = type_
    cur.state = new_states[-1]
    if item.name is not None:
        cur.name = item.name
    return _outcome(item, cur.id, cur.version, type_, None)


def _started_at(
    started_at: float | None, states: list[StateData], history: Sequence[dict[str, Any]] = ()
) -> float | None:
    """When a task run's latest run began (its duration counts from it, its timeline
    bar starts there): its first Running among the new ``states``, or a later one
    that starts it again after it had finished (``history``: its entries before
    ``states``). A flow run restarted days later runs a failed task again: its new
    run's time is what the task took, not the days between. Retries and loop turns
    within one run keep the run's start."""
    if started_at is not None and len(states) == 1 and states[0].type is not StateType.RUNNING:
        return started_at  # the common update: a started task run's end, in a writer loop
    for i, state in enumerate(states):
        if state.type is StateType.RUNNING and (
            started_at is None or _runs_again([s.type for s in states[:i]], history)
        ):
            started_at = state.timestamp
    return started_at


def _runs_again(earlier: list[StateType], history: Sequence[dict[str, Any]]) -> bool:
    """Whether a Running now starts the task run again after it had finished: the last
    state before it (waiting ones aside) was a finished one, not a retry or a loop turn
    (Looped is not a finished state)."""
    before = [*(entry["state"]["type"] for entry in history), *(t.value for t in earlier)]
    for value in reversed(before):
        kind = StateType(value)
        if kind is StateType.RETRYING:
            return False  # a retry within the run
        if kind in PENDING_TYPES or kind is StateType.SUBMITTED:
            continue  # waiting between runs says nothing of the one before
        return kind in FINISHED_TYPES
    return False


def _may_move(current: StateType, new: StateType) -> bool:
    """The table's moves, and Mapped again: a mapped parent summed up once more.

    A later attempt of the flow run that runs children an earlier one left (see
    ``weir.execution.resume``) reports the parent Mapped again, with new counts.
    """
    return new in ALLOWED_TRANSITIONS[current] or (
        current is StateType.MAPPED and new is StateType.MAPPED
    )


def _applied_already(
    cur: _Current, item: actions.TaskRunUpsert, new_states: list[StateData]
) -> bool:
    """Whether the task run's last states are this item's, as it sent them.

    The same types, timestamps and submission time, on top of the same version
    (when the item names one): the item was applied when its batch was first sent.
    """
    n = len(new_states)
    history = cur.history
    if n > len(history) or (item.version is not None and item.version != cur.version - n):
        return False
    tail = history[-n:]
    if tail[0].get("submitted") != item.submitted:
        return False
    for entry, state in zip(tail, new_states, strict=True):
        stored = entry["state"]
        if stored["timestamp"] != state.timestamp or stored["type"] != state.type._value_:
            return False
    return True


def _outcome(
    item: actions.TaskRunUpsert,
    task_run_id: uuid.UUID | None,
    version: int | None,
    state_type: StateType | None,
    reason: str | None,
) -> dict[str, Any]:
    """An item's outcome (TaskRunWritten fields): accepted when no ``reason`` is given."""
    return {
        "task_slug": item.task_slug,
        "map_index": item.map_index,
        "flow_run_id": item.flow_run_id,
        "accepted": reason is None,
        "task_run_id": task_run_id,
        "version": version,
        "state_type": state_type,
        "reason": reason,
    }


def read(session: Session, task_run_id: uuid.UUID) -> orm.TaskRun:
    task_run = session.get(orm.TaskRun, task_run_id)
    if task_run is None:
        raise NotFound(f"There is no task run with id {task_run_id}.")
    return task_run


def set_state(
    session: Session, task_run_id: uuid.UUID, action: actions.SetState, now: float
) -> orm.TaskRun:
    """One task run's state write; a stale version or forbidden move is a 409."""
    task_run = session.scalar(
        select(orm.TaskRun).where(orm.TaskRun.id == task_run_id).with_for_update()
    )
    if task_run is None:
        raise NotFound(f"There is no task run with id {task_run_id}.")
    subject = f"Task run {task_run.task_slug}[{task_run.map_index}] ({task_run.id})"
    states.check_version(task_run, action.version, subject)
    states.check_move(task_run.state_type, action.state.type, subject.lower())
    move(task_run, action.state, now)
    session.flush()
    return task_run


def move(task_run: orm.TaskRun, state: StateData, now: float) -> None:
    """Give a loaded task run its next state (checked by the caller), as of ``now``: its
    version, state columns, history and first Running time."""
    task_run.started_at = _started_at(task_run.started_at, [state], task_run.history)
    task_run.version += 1
    for name, value in _state_fields(state).items():
        setattr(task_run, name, value)
    # A new list, so that the ORM sees the JSON column change.
    task_run.history = [*task_run.history, history_entry(state, task_run.version)]
    task_run.updated = now


def list_for_run(
    session: Session, flow_run_id: uuid.UUID, limit: int, offset: int
) -> list[responses.TaskRun]:
    query = (
        select(orm.TaskRun)
        .where(orm.TaskRun.flow_run_id == flow_run_id)
        .order_by(orm.TaskRun.created, orm.TaskRun.task_slug, orm.TaskRun.map_index)
        .limit(limit)
        .offset(offset)
    )
    return [to_response(t) for t in session.scalars(query)]


def to_response(task_run: orm.TaskRun) -> responses.TaskRun:
    data = dict(task_run.state_data or {})
    state = StateData(
        type=task_run.state_type,
        message=task_run.state_message,
        timestamp=task_run.state_timestamp,
        start_time=task_run.state_start_time,
        run_count=task_run.state_run_count,
        **data,
    )
    return responses.TaskRun(
        id=task_run.id,
        flow_run_id=task_run.flow_run_id,
        task_slug=task_run.task_slug,
        map_index=task_run.map_index,
        state=state,
        version=task_run.version,
        created=task_run.created,
        updated=task_run.updated,
        name=task_run.name,
    )


def history(session: Session, task_run_id: uuid.UUID) -> list[responses.StateHistoryItem]:
    return [
        responses.StateHistoryItem(version=entry["version"], state=StateData(**entry["state"]))
        for entry in read(session, task_run_id).history
    ]
