"""The write path's model layer on its own: its functions open their transactions on a
real database (no HTTP), and reads see every batch the server answered for."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from weir.schemas import actions
from weir.server.database import orm
from weir.server.database.engine import Database
from weir.server.errors import Conflict, NotFound
from weir.server.models import flow_runs, reading, task_runs, writes
from weir.server.testing import store_flow_unchecked

NOW = 1_800_000_000.0

_FLOW = {
    "name": "etl",
    "tasks": [],
    "edges": [],
    "parameters": [],
    "reference_tasks": [],
    "schedule": None,
}


def clock() -> float:
    return NOW


@pytest.fixture
def run_id(db: Database) -> uuid.UUID:
    flow_id = store_flow_unchecked(db, _FLOW)
    with db.session(write=True) as session:
        run = flow_runs.create(session, actions.FlowRunCreate(flow_id=flow_id), NOW).run
        run.attempt = 2  # as if claimed twice
        return run.id


def _item(run_id: uuid.UUID, slug: str, *kinds: str) -> actions.TaskRunUpsert:
    return actions.TaskRunUpsert.model_validate(
        {"flow_run_id": run_id, "task_slug": slug, "states": [{"type": k} for k in kinds]}
    )


def _body(items: list[actions.TaskRunUpsert]) -> bytes:
    return b"[" + b",".join(i.model_dump_json().encode() for i in items) + b"]"


def _count(db: Database, table: Any) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)))


def _store(db: Database, items: list[actions.TaskRunUpsert], attempt: int | None = None) -> None:
    writes.store_task_run_batch(db, items, _body(items), clock, attempt)


def _versions(db: Database) -> dict[str, int]:
    with db.session() as session:
        return dict(session.execute(select(orm.TaskRun.task_slug, orm.TaskRun.version)).all())


def test_a_batch_is_written_after_the_batches_stored_before_it(db, run_id):
    _store(db, [_item(run_id, "a", "Running")])
    outcomes = writes.write_task_run_batch(db, [_item(run_id, "a", "Success")], clock, 2)
    assert [(o["accepted"], o["version"]) for o in outcomes] == [(True, 2)]
    assert _count(db, orm.TaskRunBatch) == 0


def test_a_batch_from_an_older_attempt_writes_nothing(db, run_id):
    _store(db, [_item(run_id, "a", "Running")])
    with pytest.raises(Conflict) as refused:
        writes.write_task_run_batch(db, [_item(run_id, "b", "Running")], clock, 1)
    assert refused.value.field == "attempt"
    assert _versions(db) == {}  # not even the stored batch: the transaction rolled back
    assert _count(db, orm.TaskRunBatch) == 1


def test_a_stored_batch_is_checked_at_the_door(db, run_id):
    with pytest.raises(Conflict) as refused:
        _store(db, [_item(run_id, "a", "Running")], attempt=1)
    assert refused.value.field == "attempt"
    with pytest.raises(NotFound):
        _store(db, [_item(uuid.uuid4(), "a", "Running")])
    assert _count(db, orm.TaskRunBatch) == 0
    _store(db, [_item(run_id, "a", "Running")], attempt=2)
    assert _count(db, orm.TaskRunBatch) == 1


def test_a_single_task_run_state_write_goes_after_the_stored_batches(db, run_id):
    _store(db, [_item(run_id, "a", "Running")])
    task_run_id = uuid.uuid5(task_runs.TASK_RUN_NAMESPACE, f"{run_id}/a/")
    action = actions.SetState.model_validate({"state": {"type": "Success"}, "version": 1})
    with pytest.raises(Conflict) as refused:
        writes.set_task_run_state(db, task_run_id, action, clock, 1)
    assert refused.value.field == "attempt"
    written = writes.set_task_run_state(db, task_run_id, action, clock, 2)
    assert (written.version, written.state.type.value) == (2, "Success")
    with pytest.raises(Conflict):  # version 1 is stale now
        writes.set_task_run_state(db, task_run_id, action, clock, None)


def _state_write(run_id: uuid.UUID, kind: str, version: int) -> actions.FlowRunSetState:
    return actions.FlowRunSetState.model_validate(
        {
            "state": {"type": kind},
            "version": version,
            "task_runs": [_item(run_id, "a", "Running", "Success").model_dump(mode="json")],
            "logs": [{"flow_run_id": str(run_id), "timestamp": NOW, "message": "done"}],
        }
    )


def _set_flow_run_state(db: Database, run_id: uuid.UUID, kind: str, version: int, attempt: Any):
    action = _state_write(run_id, kind, version)
    body = action.model_dump_json().encode()
    return writes.set_flow_run_state(db, run_id, action, body, clock, attempt)


def test_a_flow_run_state_write_stores_what_it_carries_then_moves_the_run(db, run_id):
    written = _set_flow_run_state(db, run_id, "Running", 1, 2)
    assert (written.version, written.state.type.value) == (2, "Running")
    assert _count(db, orm.TaskRunBatch) == 1  # the task runs, to be written later
    assert _count(db, orm.Log) == 1


def test_a_refused_flow_run_state_keeps_what_it_carries(db, run_id):
    with pytest.raises(Conflict):  # a stale version
        _set_flow_run_state(db, run_id, "Running", 7, 2)
    assert (_count(db, orm.TaskRunBatch), _count(db, orm.Log)) == (1, 1)


def test_a_flow_run_state_write_from_an_older_attempt_keeps_nothing(db, run_id):
    with pytest.raises(Conflict) as refused:
        _set_flow_run_state(db, run_id, "Running", 1, 1)
    assert refused.value.field == "attempt"
    assert (_count(db, orm.TaskRunBatch), _count(db, orm.Log)) == (0, 0)
    with db.session() as session:
        assert flow_runs.read(session, run_id).version == 1


def test_a_reading_session_sees_every_stored_batch(db, run_id):
    _store(db, [_item(run_id, "a", "Running")])
    _store(db, [_item(run_id, "a", "Success")])
    with reading.session(db, clock) as session:
        [task_run] = task_runs.list_for_run(session, run_id, 10, 0)
    assert (task_run.version, task_run.state.type.value) == (2, "Success")
    assert _count(db, orm.TaskRunBatch) == 0


def test_a_reading_session_with_nothing_stored_writes_nothing(db, run_id, monkeypatch):
    def no_write(*args: Any) -> int:
        raise AssertionError("nothing is stored: nothing to write")

    monkeypatch.setattr(reading.task_run_batches, "write", no_write)
    with reading.session(db, clock) as session:
        assert task_runs.list_for_run(session, run_id, 10, 0) == []


def test_write_stored_says_how_many_batches_it_wrote(db, run_id):
    assert reading.write_stored(db, clock) == 0
    _store(db, [_item(run_id, "a", "Running")])
    _store(db, [_item(run_id, "b", "Running")])
    assert reading.write_stored(db, clock) == 2
    assert _versions(db) == {"a": 1, "b": 1}


def test_log_lines_are_stored_once_and_only_for_runs_that_exist(db, run_id):
    line = {"flow_run_id": str(run_id), "timestamp": NOW, "message": "hi"}
    identity = {"sender_id": str(uuid.uuid4()), "seq": 0}
    lines = [actions.LogCreate.model_validate({**line, **identity})]
    assert writes.write_log_lines(db, lines) == 1
    assert writes.write_log_lines(db, lines) == 0  # sent again after a lost answer
    stray = actions.LogCreate.model_validate({**line, "flow_run_id": str(uuid.uuid4())})
    with pytest.raises(NotFound):
        writes.write_log_lines(db, [stray])
    assert _count(db, orm.Log) == 1
    events = _count(db, orm.TraceEvent)  # the run's own, from its creation
    event = {"flow_run_id": str(run_id), "kind": "task_started", "timestamp": NOW}
    assert writes.write_trace_events(db, [actions.TraceEventCreate.model_validate(event)]) == 1
    assert _count(db, orm.TraceEvent) == events + 1


def _existence_checks(db: Database, write: Any) -> list[str]:
    """The existence checks of flow runs (``SELECT flow_run.id ... IN``) ``write()`` makes."""
    from sqlalchemy import event

    seen: list[str] = []

    def keep(conn, cursor, statement, params, context, executemany):
        if statement.split()[:4] == ["SELECT", "flow_run.id", "FROM", "flow_run"]:
            seen.append(statement)

    event.listen(db.write_engine, "before_cursor_execute", keep)
    try:
        write()
    finally:
        event.remove(db.write_engine, "before_cursor_execute", keep)
    return seen


@pytest.mark.parametrize("attempt", [None, 2])
def test_a_state_write_checks_its_run_exists_once_for_all_it_carries(db, run_id, attempt):
    """Task runs, log lines and trace events each named the run, and each check was a
    query; the transaction now knows (the attempt check, when there is one, read it)."""
    action = _state_write(run_id, "Running", 1)
    action.trace = [
        actions.TraceEventCreate(flow_run_id=run_id, kind="flow_run_started", timestamp=NOW)
    ]
    body = action.model_dump_json().encode()
    checks = _existence_checks(
        db, lambda: writes.set_flow_run_state(db, run_id, action, body, clock, attempt)
    )
    assert len(checks) == (1 if attempt is None else 0), checks
    assert (_count(db, orm.TaskRunBatch), _count(db, orm.Log)) == (1, 1)
    with db.session() as session:
        kinds = session.scalars(select(orm.TraceEvent.kind)).all()
    assert "flow_run_started" in kinds


def test_a_run_deleted_in_a_transaction_is_not_known_to_exist_in_it(db, run_id):
    from weir.server.models import deletion, existing_runs, runs_exist

    with pytest.raises(NotFound):
        with db.session(write=True) as session:
            assert existing_runs(session, [run_id]) == {run_id}
            deletion.delete_runs(session, [run_id])
            assert existing_runs(session, [run_id]) == set()
            runs_exist(session, [run_id])


def test_a_few_trace_events_take_one_statement(db, run_id):
    """A state write's few events went, on PostgreSQL, through a temporary table: four
    statements (create, COPY, INSERT … SELECT, DELETE) for one to three rows."""
    from sqlalchemy import event

    seen: list[str] = []

    def keep(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split()))

    events = [
        actions.TraceEventCreate(
            flow_run_id=run_id, kind=kind, timestamp=NOW, sender_id=uuid.uuid4(), seq=0
        )
        for kind in ("process_started", "flow_loaded", "executor_started")
    ]
    event.listen(db.write_engine, "before_cursor_execute", keep)
    try:
        assert writes.write_trace_events(db, events) == 3
        assert writes.write_trace_events(db, events) == 0  # sent again: skipped
    finally:
        event.remove(db.write_engine, "before_cursor_execute", keep)
    touching = [s for s in seen if "trace_event" in s]
    assert len(touching) == 2, touching
    assert all(s.startswith('INSERT INTO "trace_event"') and "ON CONFLICT" in s for s in touching)


def test_a_few_task_runs_take_plain_statements(db, run_id):
    """On PostgreSQL a COPY (new task runs) and a temporary table (changed ones) cost
    round trips a few rows do not need: one INSERT and one UPDATE each, sent together."""
    from sqlalchemy import event

    seen: list[str] = []

    def keep(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split()))

    running = [_item(run_id, slug, "Running") for slug in "abc"]
    done = [_item(run_id, slug, "Success") for slug in "abc"]
    event.listen(db.write_engine, "before_cursor_execute", keep)
    try:
        for items in (running, done):
            outcomes = writes.write_task_run_batch(db, items, clock, None)
            assert [o["accepted"] for o in outcomes] == [True] * 3
    finally:
        event.remove(db.write_engine, "before_cursor_execute", keep)
    writing = [s for s in seen if s.startswith(("INSERT INTO task_run", "UPDATE task_run"))]
    assert [s.split()[0] for s in writing] == ["INSERT", "UPDATE"], seen
    assert not [s for s in seen if "COPY" in s or "_weir_update" in s], seen
    with db.session() as session:
        stored = session.scalars(select(orm.TaskRun).where(orm.TaskRun.flow_run_id == run_id))
        assert {(t.task_slug, t.state_type.value, t.version) for t in stored} == {
            (slug, "Success", 2) for slug in "abc"
        }
