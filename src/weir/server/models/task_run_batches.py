"""Task-run batches taken at once, written into task runs before anything reads them.

Writing a thousand task runs costs the server tens of milliseconds (looking up
the stored ones, checking each move, building and writing the rows); checking a
batch's JSON costs a few. A flow-run process that waited for the whole write
after its last task would spend most of its end on it. So the engine sends its
batches with ``wait=false``: the server validates the batch (a bad one is
refused whole, as ever), stores its body as one row of ``task_run_batch``,
commits and answers. The batch is as durable as the task runs it names.

Every read of task runs first writes the stored batches, oldest first, through
the same ``task_runs.upsert`` a waited-for batch goes through (``write``; the
read transaction that does so is ``reading.session``), and so does every write
that touches task runs one by one (``writes``); the server's writer
thread does it too, soon after batches stop arriving. Nobody can read a task
run that is older than a batch the server has answered for.

An item refused when its batch is written (a forbidden move, a stale version,
a flow run deleted meanwhile) changes nothing, as in a waited-for batch; its
reason becomes a warning in its flow run's logs, where a waited-for batch would
have returned it to the engine.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from weir.schemas import actions
from weir.server.database import orm
from weir.server.models import bulk, existing_runs, run_ids_of, runs_exist, task_runs

logger = logging.getLogger(__name__)

_ITEMS: TypeAdapter[list[actions.TaskRunUpsert]] = TypeAdapter(list[actions.TaskRunUpsert])
_STATE_WRITE: TypeAdapter[actions.FlowRunSetState] = TypeAdapter(actions.FlowRunSetState)
_BATCH = orm.TaskRunBatch

#: Log level of a refused item's line in its flow run's logs (logging.WARNING).
REFUSED_LEVEL = logging.WARNING
#: The logger name the server's own lines in a run's logs carry.
SERVER_LOGGER = "weir.server"


def store(
    session: Session, items: list[actions.TaskRunUpsert], received: float, body: bytes
) -> None:
    """Keep validated task-run items to be written later, as the request body they came in.

    ``body`` is a task-run batch (a JSON list: ``items``) or a flow-run state write
    whose ``task_runs`` are ``items`` (a JSON object): stored as sent, since writing
    the items out again would cost more than checking them did. Every flow run the
    items name must exist (else 404, and nothing is stored).
    """
    runs_exist(session, run_ids_of(items))
    insert_batch = insert(_BATCH).values(received=received, body=body).returning(_BATCH.id)
    _remember(session.scalar(insert_batch), body, items)


#: Items validated when their batch was stored, by the batch's id, with the body they
#: came in. Validating a body costs about as much as writing its task runs, so the
#: writer in this process takes these instead of validating the body again. A batch
#: stored by another server process (or before a restart) is not here: it is validated
#: again, as are ids whose body differs (an id SQLite reused after a rolled-back store;
#: on PostgreSQL, whose ids are never reused, the id alone tells, see ``write``).
_validated: dict[int, tuple[bytes, list[actions.TaskRunUpsert]]] = {}
_validated_lock = threading.Lock()
#: Entries kept at most: those of stores rolled back are never taken, and go first.
VALIDATED_KEPT = 256


def _remember(batch_id: int | None, body: bytes, items: list[actions.TaskRunUpsert]) -> None:
    if batch_id is None:
        return
    with _validated_lock:
        _validated[batch_id] = (body, items)
        while len(_validated) > VALIDATED_KEPT:
            del _validated[next(iter(_validated))]


def _take(batch_id: int, body: bytes | None) -> list[actions.TaskRunUpsert] | None:
    """The items validated when batch ``batch_id`` was stored here, if known: told by
    its ``body`` when given (SQLite), by its id alone when not (PostgreSQL)."""
    with _validated_lock:
        found = _validated.pop(batch_id, None)
    if found is None or (body is not None and found[0] != body):
        return None
    return found[1]


def waiting(session: Session) -> bool:
    """Whether any stored batch is not written yet."""
    return session.scalar(select(_BATCH.id).limit(1)) is not None


#: Items written together at most. The batches stored one after another (a run's
#: batches while the writer waited for a quiet moment) are written as one: one lookup
#: of their stored task runs, one statement for the new ones, one for the changed,
#: and a task run reported Running in one batch and Success in the next is written
#: once. Beyond this many items, a write holds more memory than it saves.
MERGED_ITEMS = 20_000


def write(session: Session, now: float) -> int:
    """Write every stored batch into task runs, oldest first; return how many batches.

    Call it in a write transaction. The task runs are stamped ``now`` (created,
    updated), as those of a waited-for batch are stamped when it is written: the
    UI asks for what changed since its last look by that stamp. On PostgreSQL the
    batches are locked: a concurrent writer waits, then finds them gone.
    """
    # SQLite may give a rolled-back store's id to the next one: its bodies are read, to
    # tell a batch validated here by its body. PostgreSQL's ids come from a sequence and
    # are never given twice, so a batch validated here is taken by its id alone, and its
    # body (some 200 KB for a thousand task runs) is read only if it was not: reading it
    # back took 2 ms of such a batch's write.
    sqlite = session.get_bind().dialect.name == "sqlite"
    columns = (_BATCH.id, _BATCH.received, *((_BATCH.body,) if sqlite else ()))
    query = select(*columns).order_by(_BATCH.id)
    if not sqlite:
        query = query.with_for_update()
    batches = session.execute(query).all()
    group: list[_Stored] = []
    grouped = 0  # items in the group
    for batch in batches:
        stored = _Stored(batch.id, batch.received, batch.body if sqlite else None)
        try:
            stored.items = _items_of(session, stored)
        except ValidationError as exc:
            _log_unwritable(session, stored, exc)
            continue
        if group and grouped + len(stored.items) > MERGED_ITEMS:
            _write_group(session, group, now)
            group, grouped = [], 0
        group.append(stored)
        grouped += len(stored.items)
    if group:
        _write_group(session, group, now)
    if batches:
        session.execute(delete(_BATCH).where(_BATCH.id.in_([b.id for b in batches])))
    return len(batches)


@dataclass(slots=True)
class _Stored:
    """A stored batch being written: its id, when it came, its body once read (always
    on SQLite, see ``write``) and its items."""

    id: int
    received: float
    body: bytes | None
    items: list[actions.TaskRunUpsert] = field(default_factory=list)


def _items_of(session: Session, batch: _Stored) -> list[actions.TaskRunUpsert]:
    """The batch's items: those validated when it was stored here, else its body's."""
    items = _take(batch.id, batch.body)
    if items is None:
        if batch.body is None:
            batch.body = _body(session, batch.id)
        items = _items(batch.body)
    return items


def _write_group(session: Session, group: list[_Stored], now: float) -> None:
    """Write these batches' items as one, in their order; batch by batch if one of
    them holds a value the database refuses."""
    if len(group) > 1:
        items = [item for batch in group for item in batch.items]
        try:
            with session.begin_nested():
                refused = task_runs.upsert(session, items, now, accepted=False)
        except (IntegrityError, DataError):
            pass  # rolled back: each batch on its own finds the one that cannot be written
        else:
            # Each refused item's line carries the time its own batch came.
            ends = list(accumulate(len(batch.items) for batch in group))
            by_batch: dict[int, list[dict[str, Any]]] = {}
            for outcome in refused:
                by_batch.setdefault(bisect_right(ends, outcome["position"]), []).append(outcome)
            for index, outcomes in by_batch.items():
                _log_refused(session, outcomes, group[index].received)
            return
    for batch in group:
        try:
            refused = _write_batch(session, batch.items, now)
        except (IntegrityError, DataError) as exc:
            _log_unwritable(session, batch, exc)
            continue
        _log_refused(session, refused, batch.received)


def _write_batch(
    session: Session, items: list[actions.TaskRunUpsert], now: float
) -> list[dict[str, Any]]:
    """One stored batch's items written; the outcomes of those refused."""
    # A savepoint each: a batch that cannot be written must not keep every later
    # batch, and every read of task runs, failing behind it.
    try:
        with session.begin_nested():
            return task_runs.upsert(session, items, now, accepted=False)
    except DataError:
        # A value the database cannot store: item by item, that item refused.
        with session.begin_nested():
            return task_runs.upsert_each(session, items, now, accepted=False)


def _body(session: Session, batch_id: int) -> bytes:
    return bytes(session.scalar(select(_BATCH.body).where(_BATCH.id == batch_id)) or b"")


def _log_unwritable(session: Session, batch: _Stored, exc: Exception) -> None:
    """Say, in the server's log and its flow run's logs, that a batch was dropped."""
    if batch.body is None:
        batch.body = _body(session, batch.id)
    body, received = batch.body, batch.received
    logger.error("A stored task-run batch (%d bytes) could not be written: %s", len(body), exc)
    run_id = _first_run_id(body)
    if run_id is None:
        return
    message = f"The server could not write a batch of task-run states and dropped it: {exc}"
    line = {"flow_run_id": run_id, "task_run_id": None, "task_slug": None, "map_index": None}
    server_lines(session, [line], received, logging.ERROR, [message[:10_000]])


def _items(body: bytes) -> list[actions.TaskRunUpsert]:
    """A stored body's task-run items, checked again as they were when it was taken."""
    if body.lstrip()[:1] == b"{":
        return _STATE_WRITE.validate_json(body).task_runs or []
    return _ITEMS.validate_json(body)


def _first_run_id(body: bytes) -> uuid.UUID | None:
    try:
        parsed = json.loads(body)
        items = parsed["task_runs"] if isinstance(parsed, dict) else parsed
        return uuid.UUID(str(items[0]["flow_run_id"]))
    except (ValueError, TypeError, LookupError):
        return None


def _log_refused(session: Session, outcomes: list[dict[str, Any]], received: float) -> None:
    """A line in its flow run's logs for each refused item (unless the run is gone)."""
    refused = [o for o in outcomes if not o["accepted"]]
    if not refused:
        return
    messages = [
        f"The server refused a state of task run {o['task_slug']}[{o['map_index']}]: {o['reason']}"
        for o in refused
    ]
    dropped = server_lines(session, refused, received, REFUSED_LEVEL, messages)
    if dropped:
        logger.info("%d task-run states for deleted flow runs were dropped.", dropped)


def server_lines(
    session: Session,
    about: list[dict[str, Any]],
    received: float,
    level: int,
    messages: list[str],
) -> int:
    """Write the server's own lines in their flow runs' logs, one per entry of ``about``
    (its flow run, task run, slug and map index) with its message; return how many
    were not written because their flow run is gone."""
    known = existing_runs(session, {a["flow_run_id"] for a in about})
    rows = [
        {
            "flow_run_id": a["flow_run_id"],
            "task_run_id": a["task_run_id"],
            "task_slug": a["task_slug"],
            "map_index": a["map_index"],
            "timestamp": received,
            "level": level,
            "name": SERVER_LOGGER,
            "message": message,
            "sender_id": None,
            "seq": None,
        }
        for a, message in zip(about, messages, strict=True)
        if a["flow_run_id"] in known
    ]
    bulk.insert_rows(session, orm.Log.__table__, rows)
    return len(about) - len(rows)
