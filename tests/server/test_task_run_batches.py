"""Task-run batches sent with ``wait=false``: stored at once, written before any read."""

from __future__ import annotations

import inspect
import json
import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from weir.schemas.actions import ATTEMPT_HEADER
from weir.server.database import orm
from weir.server.models.reading import write_stored
from weir.server.models.task_runs import TASK_RUN_NAMESPACE
from weir.server.services.batch_writer import BatchWriter
from weir.utilities.waiting import wait_until


def _item(run_id: str, slug: str, *kinds: str, map_index: int = -1) -> dict[str, Any]:
    return {
        "flow_run_id": run_id,
        "task_slug": slug,
        "map_index": map_index,
        "states": [{"type": k} for k in kinds],
    }


def _stored(db: Any) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(orm.TaskRunBatch)))


def _send(client: Any, items: list[dict[str, Any]]) -> Any:
    return client.post("/task_runs/batch", params={"wait": "false"}, json=items)


@pytest.fixture
def no_writer_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's writer thread off: only the reads write the stored batches."""
    monkeypatch.setattr(BatchWriter, "_loop", lambda self: None)


@pytest.fixture
def run_id(client: Any, register: Any, create_run: Any) -> str:
    return str(create_run(client, register(client)["id"])["id"])


def _task_run_id(run_id: str, slug: str) -> uuid.UUID:
    """The id the server gives a task run (derived: a read may name it before it exists)."""
    return uuid.uuid5(TASK_RUN_NAMESPACE, f"{run_id}/{slug}/")


def _task_runs(client: Any, run_id: str) -> dict[tuple[str, int], dict[str, Any]]:
    listed = client.get(f"/flow_runs/{run_id}/task_runs").json()
    return {(t["task_slug"], t["map_index"]): t for t in listed}


READS = {
    "task runs": lambda c, run, tr: c.get(f"/flow_runs/{run}/task_runs").json()[0]["version"],
    "one task run": lambda c, run, tr: c.get(f"/task_runs/{tr}").json()["version"],
    "its states": lambda c, run, tr: len(c.get(f"/task_runs/{tr}/states").json()),
    "trace": lambda c, run, tr: sum(
        e["kind"] == "task_started" for e in c.get(f"/flow_runs/{run}/trace").json()
    ),
    "logs of the task run": lambda c, run, tr: (
        c.get(f"/flow_runs/{run}/logs", params={"task_run_id": tr}).status_code == 200
    ),
    "UI run page": lambda c, run, tr: (
        c.get(f"/ui/flow_runs/{run}").json()["tasks"][0]["state"] == "Success"
    ),
    "UI task page": lambda c, run, tr: (
        c.get(f"/ui/flow_runs/{run}/task", params={"slug": "a"}).json()["summary"]["state"]
        == "Success"
    ),
}


@pytest.mark.parametrize("read", list(READS))
def test_a_stored_batch_is_written_before_a_read_sees_task_runs(
    no_writer_thread, client, db, run_id, read
):
    response = _send(client, [_item(run_id, "a", "Running", "Success")])
    assert response.status_code == 202
    assert response.json() == []
    assert _stored(db) == 1
    assert READS[read](client, run_id, _task_run_id(run_id, "a")) in (2, True)
    assert _stored(db) == 0
    [task_run] = _task_runs(client, run_id).values()
    assert task_run["id"] == str(_task_run_id(run_id, "a"))
    assert task_run["state"]["type"] == "Success"
    assert task_run["version"] == 2


def test_stored_batches_go_before_a_waited_batch_and_a_single_state_write(
    no_writer_thread, client, db, run_id
):
    _send(client, [_item(run_id, "a", "Running")])
    _send(client, [_item(run_id, "b", "Running")])
    [written] = client.post("/task_runs/batch", json=[_item(run_id, "a", "Success")]).json()
    # Applied after the stored Running: version 2, not a fresh task run at version 1.
    assert (written["accepted"], written["version"]) == (True, 2)
    assert _stored(db) == 0
    _send(client, [_item(run_id, "b", "Success")])
    b = _task_runs(client, run_id)[("b", -1)]
    assert b["version"] == 2
    _send(client, [_item(run_id, "c", "Running")])
    with db.session() as session:
        c_id = session.scalar(select(orm.TaskRun.id).where(orm.TaskRun.task_slug == "c"))
    assert c_id is None  # still stored
    c_id = _task_run_id(run_id, "c")
    response = client.post(
        f"/task_runs/{c_id}/state", json={"state": {"type": "Success"}, "version": 1}
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2


def test_the_items_of_a_stored_batch_apply_in_order_across_batches(
    no_writer_thread, client, db, run_id
):
    for kind in ("Pending", "Running", "Retrying", "Running", "Success"):
        assert _send(client, [_item(run_id, "a", kind)]).status_code == 202
    assert _stored(db) == 5
    task_run = _task_runs(client, run_id)[("a", -1)]
    history = client.get(f"/task_runs/{task_run['id']}/states").json()
    assert [h["state"]["type"] for h in history] == [
        "Pending",
        "Running",
        "Retrying",
        "Running",
        "Success",
    ]


def _upsert_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of items of each ``task_runs.upsert`` call from here on."""
    from weir.server.models import task_runs

    calls: list[int] = []
    upsert = task_runs.upsert

    def counted(session: Any, items: Any, now: float, **kw: Any) -> Any:
        calls.append(len(items))
        return upsert(session, items, now, **kw)

    monkeypatch.setattr(task_runs, "upsert", counted)
    return calls


def test_stored_batches_are_written_together_each_task_run_once(
    no_writer_thread, client, db, run_id, monkeypatch
):
    # A run's Running batch and its Success batch, stored while the writer waited for a
    # quiet moment: one upsert of both, each task run created with its final state.
    _send(client, [_item(run_id, s, "Running") for s in "ab"])
    _send(client, [_item(run_id, "a", "Success"), _item(run_id, "b", "Failed")])
    _send(client, [_item(run_id, "c", "Running", "Success")])
    calls = _upsert_calls(monkeypatch)
    runs = _task_runs(client, run_id)
    assert calls == [5]
    assert {k[0]: (t["state"]["type"], t["version"]) for k, t in runs.items()} == {
        "a": ("Success", 2),
        "b": ("Failed", 2),
        "c": ("Success", 2),
    }
    for task_run in runs.values():
        history = client.get(f"/task_runs/{task_run['id']}/states").json()
        assert [h["version"] for h in history] == [1, 2]
        assert history[0]["state"]["type"] == "Running"


def test_batches_written_together_are_cut_at_merged_items(
    no_writer_thread, client, db, run_id, monkeypatch
):
    from weir.server.models import task_run_batches

    monkeypatch.setattr(task_run_batches, "MERGED_ITEMS", 3)
    for n in range(4):
        _send(client, [_item(run_id, f"t{n}-{i}", "Running") for i in range(2 if n < 2 else 1)])
    calls = _upsert_calls(monkeypatch)
    assert len(_task_runs(client, run_id)) == 6
    assert calls == [2, 3, 1]  # 2 + 2 > 3: the first alone; 2 + 1; then the last


def test_an_item_refused_in_batches_written_together_is_logged_with_its_own_batchs_time(
    no_writer_thread, client, db, run_id
):
    # Stored by hand, to give each batch its own time (items validated again on write).
    bodies = [
        [_item(run_id, "a", "Running", "Success")],
        [_item(run_id, "b", "Running"), _item(run_id, "a", "Running")],  # a: Success→Running
        [_item(run_id, "b", "Success")],
    ]
    with db.session(write=True) as session:
        for received, body in zip((100.0, 200.0, 300.0), bodies, strict=True):
            batch = {"received": received, "body": json.dumps(body).encode()}
            session.execute(insert(orm.TaskRunBatch).values(**batch))
    runs = _task_runs(client, run_id)
    assert {k[0]: (t["state"]["type"], t["version"]) for k, t in runs.items()} == {
        "a": ("Success", 2),
        "b": ("Success", 2),
    }
    lines = client.get(f"/flow_runs/{run_id}/logs").json()["logs"]
    [line] = [x for x in lines if x["name"] == "weir.server"]
    assert (line["task_slug"], line["timestamp"]) == ("a", 200.0)


def test_a_refused_item_of_a_stored_batch_is_a_warning_in_its_runs_logs(
    no_writer_thread, client, db, run_id
):
    client.post("/task_runs/batch", json=[_item(run_id, "a", "Running", "Success")])
    _send(client, [_item(run_id, "a", "Running"), _item(run_id, "b", "Running")])
    runs = _task_runs(client, run_id)
    assert runs[("a", -1)]["state"]["type"] == "Success"  # the refused item changed nothing
    assert runs[("b", -1)]["state"]["type"] == "Running"  # its neighbour went in
    lines = client.get(f"/flow_runs/{run_id}/logs").json()["logs"]
    [line] = [x for x in lines if x["name"] == "weir.server"]
    assert line["level"] == 30
    assert line["task_slug"] == "a"
    assert "a[-1]" in line["message"] and "Success to Running" in line["message"]


def test_a_stored_batch_whose_run_is_gone_is_dropped_without_a_line(
    no_writer_thread, client, db, run_id
):
    _send(client, [_item(run_id, "a", "Running")])
    with db.session(write=True) as session:
        session.execute(orm.FlowRun.__table__.delete())
    assert write_stored(db, time.time) == 1
    assert _stored(db) == 0
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(orm.Log)) == 0
        assert session.scalar(select(func.count()).select_from(orm.TaskRun)) == 0


def test_a_bad_batch_is_refused_whole_and_nothing_is_stored(no_writer_thread, client, db, run_id):
    unknown = "00000000-0000-0000-0000-000000000009"
    response = _send(client, [_item(run_id, "a", "Running"), _item(unknown, "b", "Running")])
    assert response.status_code == 404
    assert unknown in response.json()["detail"]
    response = _send(client, [_item(run_id, "a", "Running"), _item(run_id, "b", "Sleeping")])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:4] == ["body", 1, "states", 0]
    assert _stored(db) == 0
    assert _task_runs(client, run_id) == {}


def test_the_servers_thread_writes_stored_batches_without_a_read(client, db, run_id):
    _send(client, [_item(run_id, "a", "Running", "Success")])
    wait_until(lambda: _stored(db) == 0, 10, interval=0.02)
    with db.session() as session:
        [state] = session.scalars(select(orm.TaskRun.state_type)).all()
    assert state.value == "Success"


#: The thread's loop, for a writer of a test's own while the app's is off.
_LOOP = BatchWriter._loop


class _OwnWriter(BatchWriter):
    _loop = _LOOP


def test_the_thread_waits_for_a_quiet_moment_but_not_for_ever(no_writer_thread, db, client, run_id):
    stored = threading.Event()
    writer = _OwnWriter(db, stored, quiet=0.2, max_delay=0.6, recheck=60)
    with batch_writer_stopped(writer):
        _send(client, [_item(run_id, "a", "Running")])
        # Batches keep coming every 0.1 s: the writer waits up to max_delay, then writes.
        started = time.monotonic()
        stored.set()
        while writer.written == 0 and time.monotonic() - started < 5:
            stored.set()
            time.sleep(0.1)
        waited = time.monotonic() - started
    assert writer.written >= 1
    assert 0.5 <= waited < 3


class batch_writer_stopped:
    def __init__(self, writer: BatchWriter) -> None:
        self.writer = writer

    def __enter__(self) -> BatchWriter:
        return self.writer.start()

    def __exit__(self, *exc: object) -> None:
        self.writer.stop()


def test_concurrent_writers_apply_each_stored_batch_once(no_writer_thread, client, db, run_id):
    for kind in ("Running", "Running", "Success"):
        for i in range(10):
            _send(client, [_item(run_id, f"t{i}", kind)])
    errors: list[BaseException] = []

    def write() -> None:
        try:
            write_stored(db, time.time)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _stored(db) == 0
    runs = _task_runs(client, run_id)
    assert len(runs) == 10
    # A batch applied twice would show as a longer history (or a refused Success).
    for task_run in runs.values():
        history = client.get(f"/task_runs/{task_run['id']}/states").json()
        assert [h["state"]["type"] for h in history] == ["Running", "Running", "Success"]


@pytest.mark.parametrize("shape", ["batch", "state write"])
def test_a_batch_that_cannot_be_written_is_dropped_with_an_error_and_blocks_nothing(
    no_writer_thread, client, db, run_id, shape
):
    # Stored by hand: a body the API would have refused (a state type nobody knows).
    items = [_item(run_id, "a", "Sleeping")]
    if shape == "state write":
        bad = json.dumps({"state": {"type": "Running"}, "version": 1, "task_runs": items})
    else:
        bad = json.dumps(items)
    with db.session(write=True) as session:
        session.execute(insert(orm.TaskRunBatch).values(received=1.0, body=bad.encode()))
    _send(client, [_item(run_id, "b", "Running")])
    assert set(_task_runs(client, run_id)) == {("b", -1)}  # the later batch went in
    assert _stored(db) == 0
    [line] = client.get(f"/flow_runs/{run_id}/logs").json()["logs"]
    assert line["level"] == 40
    assert "could not write a batch" in line["message"] and "Sleeping" in line["message"]


def _set_run_state(client: Any, run_id: str, kind: str, version: int, items: Any = None) -> Any:
    """A state write as the run's process sends it: with its attempt (0: never claimed).

    (A run ended by another writer has its open task runs closed, which writes the
    stored batches first: see test_fence.py.)
    """
    body: dict[str, Any] = {"state": {"type": kind}, "version": version}
    if items is not None:
        body["task_runs"] = items
    return client.post(f"/flow_runs/{run_id}/state", json=body, headers={ATTEMPT_HEADER: "0"})


def test_a_flow_run_state_write_stores_the_task_runs_it_carries_first(
    no_writer_thread, client, db, run_id
):
    version = client.get(f"/flow_runs/{run_id}").json()["version"]
    assert _set_run_state(client, run_id, "Running", version).status_code == 200
    items = [_item(run_id, "a", "Running", "Success"), _item(run_id, "b", "Running", "Failed")]
    written = _set_run_state(client, run_id, "Failed", version + 1, items)
    assert written.status_code == 200, written.text
    assert _stored(db) == 1
    runs = _task_runs(client, run_id)
    assert {k: t["state"]["type"] for k, t in runs.items()} == {
        ("a", -1): "Success",
        ("b", -1): "Failed",
    }
    assert client.get(f"/flow_runs/{run_id}").json()["state"]["type"] == "Failed"


def _line(run_id: str, n: int) -> dict[str, Any]:
    return {"flow_run_id": run_id, "timestamp": 1e9 + n, "level": 20, "message": f"line {n}"}


def _event(run_id: str, n: int) -> dict[str, Any]:
    return {"flow_run_id": run_id, "kind": "step", "timestamp": 1e9 + n, "data": {"n": n}}


def test_a_state_write_stores_the_log_lines_and_trace_events_it_carries(client, run_id):
    version = client.get(f"/flow_runs/{run_id}").json()["version"]
    body = {
        "state": {"type": "Running"},
        "version": version,
        "logs": [_line(run_id, n) for n in range(3)],
        "trace": [_event(run_id, n) for n in range(2)],
    }
    assert client.post(f"/flow_runs/{run_id}/state", json=body).status_code == 200
    lines = client.get(f"/flow_runs/{run_id}/logs").json()["logs"]
    assert [x["message"] for x in lines] == ["line 0", "line 1", "line 2"]
    steps = [
        e["data"]["n"]
        for e in client.get(f"/flow_runs/{run_id}/trace").json()
        if e["kind"] == "step"
    ]
    assert steps == [0, 1]


def test_reports_carried_by_a_refused_state_write_are_kept(no_writer_thread, client, db, run_id):
    version = client.get(f"/flow_runs/{run_id}").json()["version"]
    body = {
        "state": {"type": "Running"},
        "version": version + 5,
        "task_runs": [_item(run_id, "a", "Running")],
        "logs": [_line(run_id, 0)],
        "trace": [_event(run_id, 0)],
    }
    assert client.post(f"/flow_runs/{run_id}/state", json=body).status_code == 409
    assert ("a", -1) in _task_runs(client, run_id)
    assert len(client.get(f"/flow_runs/{run_id}/logs").json()["logs"]) == 1
    assert any(e["kind"] == "step" for e in client.get(f"/flow_runs/{run_id}/trace").json())


def test_bad_task_runs_in_a_state_write_refuse_it_whole(no_writer_thread, client, db, run_id):
    version = client.get(f"/flow_runs/{run_id}").json()["version"]
    bad = _set_run_state(client, run_id, "Running", version, [_item(run_id, "a", "Sleeping")])
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][:3] == ["body", "task_runs", 0]
    unknown = "00000000-0000-0000-0000-000000000009"
    missing = _set_run_state(client, run_id, "Running", version, [_item(unknown, "a", "Running")])
    assert missing.status_code == 404
    assert unknown in missing.json()["detail"]
    assert _stored(db) == 0
    run = client.get(f"/flow_runs/{run_id}").json()
    assert (run["version"], run["state"]["type"]) == (version, "Scheduled")


def test_every_route_reading_task_runs_logs_or_trace_takes_the_read_your_writes_session():
    # A new route reading them must see the stored batches too (``ctx.reading()``).
    from weir.server.api import flow_runs, logs, task_runs, ui_data

    readers = [
        route
        for module in (flow_runs, task_runs, logs, ui_data)
        for route in module.router.routes
        if "GET" in getattr(route, "methods", ())
        and (
            "task_run" in route.path
            or route.path.endswith(("/logs", "/trace"))
            or route.path.startswith("/api/v1/ui/flow_runs/")
        )
    ]
    assert len(readers) >= len(READS)
    for route in readers:
        assert "ctx.reading()" in inspect.getsource(route.endpoint), route.path
    # Nor does any other read write the stored batches by itself, beside its session.
    for module in (flow_runs, task_runs, logs, ui_data):
        for route in module.router.routes:
            if "GET" in getattr(route, "methods", ()):
                assert "write_stored" not in inspect.getsource(route.endpoint), route.path


def test_a_state_without_a_timestamp_is_stamped_when_its_batch_is_taken(
    client: Any, run_id: str, no_writer_thread: None
) -> None:
    # The items validated at the door are the ones written: the server does not
    # validate the body again, so a state sent without a time keeps the door's.
    before = time.time()
    assert _send(client, [_item(run_id, "a", "Running")]).status_code == 202
    answered = time.time()
    (task_run,) = _task_runs(client, run_id).values()
    assert before <= task_run["state"]["timestamp"] <= answered


def test_a_batch_whose_validated_items_are_not_known_here_is_validated_again(
    client: Any, db: Any, run_id: str, no_writer_thread: None
) -> None:
    # As one stored by another server process, or before a restart.
    from weir.server.models import task_run_batches

    assert _send(client, [_item(run_id, "a", "Running", "Success")]).status_code == 202
    task_run_batches._validated.clear()
    assert _task_runs(client, run_id)[("a", -1)]["state"]["type"] == "Success"


@pytest.mark.parametrize("known_here", [True, False])
def test_postgresql_reads_a_stored_body_back_only_when_its_items_are_not_known_here(
    client: Any, db: Any, run_id: str, no_writer_thread: None, known_here: bool
) -> None:
    """Its batch ids are never given twice, so the id tells a batch validated here; a
    body is some 200 KB for a thousand task runs. SQLite reads its bodies (see below)."""
    from sqlalchemy import event

    from weir.server.models import task_run_batches

    assert _send(client, [_item(run_id, "a", "Running", "Success")]).status_code == 202
    if not known_here:
        task_run_batches._validated.clear()  # as if stored by another server process
    bodies_read: list[str] = []

    def keep(conn, cursor, statement, params, context, executemany):
        if "task_run_batch.body" in statement and statement.lstrip().startswith("SELECT"):
            bodies_read.append(statement)

    event.listen(db.write_engine, "before_cursor_execute", keep)
    try:
        assert _task_runs(client, run_id)[("a", -1)]["state"]["type"] == "Success"
    finally:
        event.remove(db.write_engine, "before_cursor_execute", keep)
    read_back = db.is_sqlite or not known_here
    assert len(bodies_read) == (1 if read_back else 0), bodies_read


def test_validated_items_are_taken_only_with_the_body_they_came_in() -> None:
    # An id whose store was rolled back may name another batch later (SQLite reuses it).
    from weir.server.models import task_run_batches as batches

    batches._remember(10**12, b"[1]", [])
    assert batches._take(10**12, b"[2]") is None
    assert 10**12 not in batches._validated
    batches._remember(10**12, b"[1]", [])
    assert batches._take(10**12, b"[1]") == []
    # Without a body (PostgreSQL, whose ids are never reused), the id alone tells.
    batches._remember(10**12, b"[1]", [])
    assert batches._take(10**12, None) == []
    assert batches._take(10**12, None) is None  # taken once
    for n in range(batches.VALIDATED_KEPT + 5):
        batches._remember(10**12 + n, b"[]", [])
    assert len(batches._validated) <= batches.VALIDATED_KEPT
    batches._validated.clear()


def test_a_flow_runs_end_has_its_batches_written_without_the_quiet_wait(
    no_writer_thread, client, db, run_id
):
    # The run's process sends nothing more after its final state: the writer does not
    # wait for batches to stop coming (here 30 s, so only the end can explain a write).
    signal = client.app.state.weir.batch_stored
    writer = _OwnWriter(db, signal, quiet=30, max_delay=60, recheck=60)
    with batch_writer_stopped(writer):
        version = client.get(f"/flow_runs/{run_id}").json()["version"]
        assert _set_run_state(client, run_id, "Running", version).status_code == 200
        _send(client, [_item(run_id, "a", "Running")])
        items = [_item(run_id, "a", "Success")]
        assert _set_run_state(client, run_id, "Success", version + 1, items).status_code == 200
        wait_until(lambda: writer.written == 2, 10, interval=0.02)
    assert _stored(db) == 0


def test_the_end_of_a_run_wakes_a_writer_waiting_for_quiet(no_writer_thread, db, client, run_id):
    from weir.server.services.batch_writer import StoredSignal

    signal = StoredSignal()
    writer = _OwnWriter(db, signal, quiet=30, max_delay=60, recheck=60)
    with batch_writer_stopped(writer):
        _send(client, [_item(run_id, "a", "Running")])
        signal.set()
        time.sleep(0.1)  # the writer is in its quiet wait now
        assert writer.written == 0
        signal.set_ended()
        wait_until(lambda: writer.written == 1, 10, interval=0.02)
        assert not signal.ended.is_set()  # taken: the next run's end is a new one
