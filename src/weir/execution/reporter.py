"""The API reporter: a flow run's states, logs and trace events, sent to the server.

The engine calls the reporter on the task path, so every call only appends to a
buffer. A sender thread ships the buffers in batches — task-run states, log
lines, trace events — every ``interval`` seconds, and a buffer as soon as it
grows past ``nudge_size``. When the server cannot be reached it keeps everything
and tries again with backoff (``REPORT_DELIVERY``), so a server restart loses nothing. A heartbeat
thread tells the server the run is alive and learns from the reply whether
someone asked for cancellation.

A task run's states go to the server as one item per task run for as long as
the sender has not taken it: a task that runs and succeeds between two sends
is one item carrying ``[Running, Success]``, and the server writes one row. Its
``task_submitted`` time rides on the same item, and ``task_started`` and
``task_finished`` are not sent at all: the server reads them off the states
(see ``weir.server.models.traces``). The server answers a task-run batch once it
has checked and stored it (``wait=false``), and writes the task runs before
anything reads them, so the run's end waits on little more than the last
batch's journey.

Flow-run state changes are rare and carry the run's version, so they are written
synchronously, with what is still buffered in the same request: the server
stores that first, so it never sees a run finished before its tasks, and a
run's end costs one round trip.

The client sends the run's attempt with every request (``Client.fence``). Once
the server answers any of them with ``SupersededError`` (another attempt took
the run over), the reporter is *superseded*: it says so in one log line, asks
the runner to stop as a cancellation does (``cancel_requested()``), and sends
nothing more — no buffered reports, no heartbeat, no final state.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections import deque
from typing import Any

from weir.client import Client
from weir.client.retrying import REPORT_DELIVERY
from weir.engine.state import State, StateType
from weir.exceptions import ClientError, ConflictError, SupersededError
from weir.execution import sanitize
from weir.execution.slots import RemoteSlots

logger = logging.getLogger(__name__)

#: Task events the server derives from task-run states; the item carries the submit time.
_FROM_STATES = frozenset({"task_submitted", "task_started", "task_finished"})

#: Task-run batches are answered once stored (202), not once written: the server writes
#: them before anything reads task runs. An older server ignores the parameter and
#: answers with each item's outcome, as before.
_PARAMS = {"task_runs/batch": {"wait": "false"}}


class ApiReporter:
    """Reports one flow run to the server (see the module docstring)."""

    def __init__(
        self,
        client: Client,
        flow_run_id: uuid.UUID | str,
        version: int,
        *,
        interval: float = 0.2,
        batch_size: int = 1000,
        nudge_size: int | None = None,
        heartbeat_interval: float = 5.0,
    ) -> None:
        self.client = client
        #: The same client for reports and state writes, which wait out an outage.
        self._deliver = client.using(REPORT_DELIVERY)
        self.flow_run_id = str(flow_run_id)
        self.version = version
        self.interval = interval
        self.batch_size = batch_size
        # Sending before a batch is full lets the server write while the run goes on,
        # so little is left to send when the run ends.
        self.nudge_size = nudge_size or max(1, batch_size // 4)
        self.heartbeat_interval = heartbeat_interval
        # Task-run items in order; ``_open`` holds those the sender has not taken yet,
        # by (slug, map index), which later states of the same task run join.
        self._states: deque[dict[str, Any]] = deque()
        self._open: dict[tuple[str, int], dict[str, Any]] = {}
        self._submitted: dict[tuple[str, int], float] = {}
        #: Names made by ``task_run_name``, until the task run's next state carries them.
        self._names: dict[tuple[str, int], str] = {}
        self._items_lock = threading.Lock()
        self._logs: deque[dict[str, Any]] = deque()
        self._trace: deque[dict[str, Any]] = deque()
        #: The line buffers, each with its counter, endpoint and the API's limits.
        self._lines = (
            (self._logs, "logs", "logs/batch", sanitize.LOG_LIMITS),
            (self._trace, "trace", "trace/batch", sanitize.TRACE_LIMITS),
        )
        # Each log line and trace event carries (sender_id, seq): a batch sent again after
        # a lost answer is then stored once. A new sender id per reporter, because a run
        # started again (by lazarus, or by hand) numbers its lines from 0 again.
        # next() on a count is atomic under the GIL and takes ~20 ns (a uuid4 per line ~2 µs).
        self._sender_id = str(uuid.uuid4())
        self._seq = itertools.count()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._send_lock = threading.Lock()
        #: Set while a flow-run state waits for the sender: the task-run items left go
        #: with the state, not in a batch of their own first.
        self._state_waiting = threading.Event()
        self.cancelled = False
        #: Set once the server said another attempt runs the flow run (see the module).
        self.superseded = False
        self._supersede_lock = threading.Lock()
        #: Concurrency slots (the Reporter protocol's ``slots``), taken through this
        #: reporter's client here and through their own in worker processes, since they
        #: pickle without it (see weir.execution.slots).
        self.slots = RemoteSlots(client.api_url, client.api_key, self.flow_run_id, client=client)
        self.sent = {"states": 0, "logs": 0, "trace": 0}
        self._threads = [
            threading.Thread(target=self._send_loop, name="weir-reporter", daemon=True),
            threading.Thread(target=self._heartbeat_loop, name="weir-heartbeat", daemon=True),
        ]
        for t in self._threads:
            t.start()

    # --- the Reporter interface (cheap: buffer and return) ------------------------------
    def task_run_state(self, slug: str, map_index: int | None, state: State) -> None:
        key = _key(slug, map_index)
        data = state.to_dict()
        with self._items_lock:
            submitted = self._submitted.pop(key, None)
            name = self._names.pop(key, None) if self._names else None
            item = self._open.get(key)
            # A new submission (a retry) starts a new item: its time belongs to its first state.
            if item is not None and submitted is None:
                item["states"].append(data)
                if name is not None:
                    item["name"] = name
                return
            item = {
                "flow_run_id": self.flow_run_id,
                "task_slug": slug,
                "map_index": key[1],
                "states": [data],
            }
            if submitted is not None:
                item["submitted"] = submitted
            if name is not None:
                item["name"] = name
            self._open[key] = item
            self._states.append(item)
        self._nudge(self._states)

    def task_run_name(self, slug: str, map_index: int | None, name: str) -> None:
        with self._items_lock:
            self._names[_key(slug, map_index)] = name

    def trace(
        self,
        kind: str,
        slug: str | None = None,
        map_index: int | None = None,
        data: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> None:
        if kind in _FROM_STATES and slug is not None:
            if kind == "task_submitted":
                with self._items_lock:
                    self._submitted[_key(slug, map_index)] = ts or time.time()
            return
        self._trace.append(self._event(kind, ts or time.time(), slug, map_index, data))
        self._nudge(self._trace)

    def _event(
        self,
        kind: str,
        ts: float,
        slug: str | None,
        map_index: int | None,
        data: dict[str, Any] | None,
    ) -> dict[str, Any]:
        return {
            "flow_run_id": self.flow_run_id,
            "kind": kind,
            "timestamp": ts,
            "task_slug": slug,
            "map_index": map_index,
            "data": _jsonable(data or {}),
            "sender_id": self._sender_id,
            "seq": next(self._seq),
        }

    def log(self, slug: str | None, map_index: int | None, record: dict[str, Any]) -> None:
        self._logs.append(
            {
                "flow_run_id": self.flow_run_id,
                "task_slug": slug,
                "map_index": map_index,
                **record,
                "sender_id": self._sender_id,
                "seq": next(self._seq),
            }
        )
        self._nudge(self._logs)

    def cancel_requested(self) -> bool:
        return self.cancelled

    def flow_run_state(self, state: State) -> None:
        """Write the flow run's state now, after everything reported before it.

        What is still buffered (up to a batch of each kind) goes in the same request:
        the server stores it before it writes the state, and the run's end waits on
        one round trip.
        """
        if self.superseded:
            return
        self._submits_to_trace()
        self._state_waiting.set()  # the sender stops after its current batch
        try:
            self._flow_run_state(state)
        except SupersededError as exc:
            self.supersede(exc)

    def _flow_run_state(self, state: State) -> None:
        with self._send_lock:
            self._state_waiting.clear()
            self._send_states(keep=self.batch_size)
            for buffer, what, path, limits in self._lines:
                self._send(buffer, what, path, limits, keep=self.batch_size)
            reported = {
                "task_runs": self._take_states(),
                "logs": _take(self._logs, self.batch_size),
                "trace": _take(self._trace, self.batch_size),
            }
            try:
                self.set_state(state.to_dict(), reported)
            except BaseException:
                self._put_back(reported["task_runs"])
                self._logs.extendleft(reversed(reported["logs"]))
                self._trace.extendleft(reversed(reported["trace"]))
                raise
            for kind, items in reported.items():
                self.sent[_COUNTERS[kind]] += len(items)

    def _submits_to_trace(self) -> None:
        """Submissions no state followed (e.g. cancelled before running) as plain events."""
        with self._items_lock:
            left, self._submitted = self._submitted, {}
        for (slug, index), ts in left.items():
            self._trace.append(
                self._event("task_submitted", ts, slug, None if index < 0 else index, None)
            )

    def supersede(self, exc: SupersededError) -> None:
        """Another attempt runs the flow run: stop the runner, and send nothing more."""
        with self._supersede_lock:
            if self.superseded:
                return
            self.superseded = True
            # The runner submits no more tasks, as on a cancellation; its end is not sent.
            self.cancelled = True
        logger.warning(
            "Flow run %s was taken over by another attempt, so this process stops now and "
            "writes nothing more (the server said: %s).",
            self.flow_run_id,
            exc,
        )

    # --- writing --------------------------------------------------------------------------
    def set_state(
        self, state: dict[str, Any], reported: dict[str, list[dict[str, Any]]] | None = None
    ) -> None:
        """Write a flow-run state with the current version (re-read once when stale).

        ``reported``: task-run items, log lines and trace events by kind (``task_runs``,
        ``logs``, ``trace``), for the server to store first, in the same request.
        Nothing is written once the reporter is superseded.
        """
        if self.superseded:
            return
        try:
            self._write_state(state, reported)
        except SupersededError as exc:
            self.supersede(exc)

    def _write_state(
        self, state: dict[str, Any], reported: dict[str, list[dict[str, Any]]] | None
    ) -> None:
        if reported and any(reported.values()):
            try:
                self._set_state(state, reported)
                return
            except ClientError as exc:
                if exc.status_code not in sanitize.REFUSED:
                    raise
                # An older server (nothing but the state), or an item refused: each kind
                # goes as a batch of its own (cleaned if need be), then the state.
                for kind, items in reported.items():
                    if items:
                        self._post_batch(f"{kind}/batch", items, _LIMITS[kind])
        try:
            self._set_state(state)
        except ClientError as exc:
            if exc.status_code not in sanitize.REFUSED:  # a 409 is not refused content
                raise
            # E.g. a failure message too long for a state: written cut, not lost with the run.
            logger.warning(
                "Flow run %s: state refused (%s); writing it cleaned.", self.flow_run_id, exc
            )
            self._set_state(sanitize.clean(state, sanitize.STATE_LIMITS))

    def _set_state(
        self, state: dict[str, Any], reported: dict[str, list[dict[str, Any]]] | None = None
    ) -> None:
        for attempt in range(2):
            try:
                written = self._deliver.set_flow_run_state(
                    self.flow_run_id, state, self.version, reported
                )
                self.version = written.version
                return
            except SupersededError:
                raise  # not a stale version: another attempt runs the flow run
            except ConflictError:
                run = self.client.get_flow_run(self.flow_run_id)
                if attempt or run.version == self.version:
                    raise
                logger.info(
                    "Flow run %s: its version moved from %d to %d (now %s); writing %s again.",
                    self.flow_run_id,
                    self.version,
                    run.version,
                    run.state.type.value,
                    state["type"],
                )
                self.version = run.version
                if run.state.type.value == state["type"]:
                    return  # our own write got through before the connection broke
                if run.state.type == StateType.CANCELLING:
                    self.cancelled = True

    def flush(self) -> None:
        """Send everything buffered so far (blocking until it is sent)."""
        with self._send_lock:
            self._send_all()

    def close(self) -> None:
        """Send what is left and stop the threads."""
        self._submits_to_trace()
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout=30)
        self.flush()

    def _nudge(self, buffer: deque[dict[str, Any]]) -> None:
        # Setting an Event takes a lock; do it once per nudge, not per item.
        if len(buffer) >= self.nudge_size and not self._wake.is_set():
            self._wake.set()
            # Let the GIL go once, so the woken sender starts now: the task path never
            # blocks, and would otherwise hold the GIL for the whole switch interval
            # (5 ms), by which time most of a thousand-task run is in the first batch.
            time.sleep(0)

    def _send_loop(self) -> None:
        while not self._stop.is_set() and not self.superseded:
            nudged = self._wake.wait(self.interval)
            self._wake.clear()
            try:
                with self._send_lock:
                    self._send_all(nudged, sender=True)
            except SupersededError as exc:
                self.supersede(exc)
            except ClientError as exc:
                # Kept in the buffers; the next round tries again.
                logger.warning(
                    "Flow run %s: could not report to the server: %s", self.flow_run_id, exc
                )

    def _send_all(self, nudged: bool = False, sender: bool = False) -> None:
        """Send what is buffered; after a nudge, log lines and trace events only if their
        buffer filled up too (a handful waits for the next round, or for the run's state).

        The sender thread stops early when a flow-run state is waiting: what is left
        goes with the state. A superseded reporter sends nothing.
        """
        if self.superseded:
            return
        # Raw requests: the items are built here in the API's shape, so the client's
        # per-item model validation (tens of µs each) would only slow the run down.
        # Task runs first: the bulk, which the server should have while the run goes on.
        self._send_states(yield_to_state=sender)
        for buffer, what, path, limits in self._lines:
            if sender and self._state_waiting.is_set():
                return
            if not nudged or len(buffer) >= self.nudge_size:
                self._send(buffer, what, path, limits)

    def _post(self, path: str, batch: list[dict[str, Any]]) -> Any:
        return self._deliver.request("POST", path, json=batch, params=_PARAMS.get(path))

    def _post_batch(self, path: str, batch: list[dict[str, Any]], limits: dict[str, int]) -> Any:
        """POST a batch; one refused for its content goes again cleaned (see ``sanitize``),
        one refused for its size goes again in halves.

        A batch refused even then is dropped with an error in this process's log
        (None): the run, its other batches and its final state must not wait on it.
        """
        body = batch
        for cleaned in (False, True):
            try:
                return self._post(path, body)
            except ClientError as exc:
                if exc.status_code not in sanitize.REFUSED:
                    raise
                if _too_big(exc) and len(batch) > 1:
                    # More bytes or items than the server takes: sent again in halves.
                    half = len(batch) // 2
                    first = self._post_batch(path, batch[:half], limits)
                    return _joined(first, self._post_batch(path, batch[half:], limits))
                what = (self.flow_run_id, len(batch), path, exc)
                if cleaned:
                    logger.error(
                        "Flow run %s: a batch of %d for %s, refused even cleaned, is dropped: %s",
                        *what,
                    )
                    return None
                logger.warning(
                    "Flow run %s: the server refused a batch of %d for %s (%s); sending it "
                    "cleaned.",
                    *what,
                )
            body = sanitize.clean(batch, limits)
        return None

    def _send(
        self,
        buffer: deque[dict[str, Any]],
        what: str,
        path: str,
        limits: dict[str, int],
        keep: int = 0,
    ) -> None:
        """Send ``buffer`` in batches until at most ``keep`` items are left."""
        while len(buffer) > keep:
            n = min(len(buffer), self.batch_size)
            batch = [buffer[i] for i in range(n)]
            self._post_batch(path, batch, limits)
            for _ in range(n):
                buffer.popleft()
            self.sent[what] += n

    def _send_states(self, keep: int = 0, yield_to_state: bool = False) -> None:
        """Send task-run items in batches until at most ``keep`` are left (or, with
        ``yield_to_state``, until a flow-run state is waiting)."""
        while len(self._states) > keep and not (yield_to_state and self._state_waiting.is_set()):
            batch = self._take_states()
            try:
                outcomes = self._post_batch("task_runs/batch", batch, sanitize.STATE_LIMITS)
            except BaseException:
                self._put_back(batch)
                raise
            self.sent["states"] += len(batch)
            self._warn_refused(outcomes)

    def _take_states(self) -> list[dict[str, Any]]:
        """The oldest task-run items, up to a batch; taken items are closed (a later
        state of the same task run opens a new item)."""
        with self._items_lock:
            n = min(len(self._states), self.batch_size)
            batch = [self._states.popleft() for _ in range(n)]
            for item in batch:
                key = (item["task_slug"], item["map_index"])
                if self._open.get(key) is item:
                    del self._open[key]
        return batch

    def _put_back(self, batch: list[dict[str, Any]]) -> None:
        """Items not sent after all: kept, in order, for the next try."""
        with self._items_lock:
            self._states.extendleft(reversed(batch))

    def _warn_refused(self, outcomes: Any) -> None:
        refused = [o for o in outcomes or () if not o.get("accepted", True)]
        for o in refused[:5]:
            logger.warning(
                "Flow run %s: the server refused the state of task run %s[%s]: %s",
                self.flow_run_id,
                o.get("task_slug"),
                o.get("map_index"),
                o.get("reason"),
            )
        if len(refused) > 5:
            logger.warning("... and %d more task-run states were refused.", len(refused) - 5)

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_interval) and not self.superseded:
            try:
                if self.client.heartbeat_flow_run(self.flow_run_id):
                    if not self.cancelled:
                        logger.info("Flow run %s: cancellation requested.", self.flow_run_id)
                    self.cancelled = True
            except SupersededError as exc:
                self.supersede(exc)
            except ClientError as exc:
                logger.warning("Flow run %s: heartbeat failed: %s", self.flow_run_id, exc)


#: By kind of report: the sent counter it adds to, the API's limits for its text.
_COUNTERS = {"task_runs": "states", "logs": "logs", "trace": "trace"}
_LIMITS = {
    "task_runs": sanitize.STATE_LIMITS,
    "logs": sanitize.LOG_LIMITS,
    "trace": sanitize.TRACE_LIMITS,
}


def _take(buffer: deque[dict[str, Any]], most: int) -> list[dict[str, Any]]:
    """Up to ``most`` of ``buffer``'s items, oldest first, taken out of it."""
    # popleft, not iteration: the task path may append meanwhile.
    return [buffer.popleft() for _ in range(min(len(buffer), most))]


def _key(slug: str, map_index: int | None) -> tuple[str, int]:
    """A task run's key in the API's shape (-1: not mapped)."""
    return (slug, -1 if map_index is None else map_index)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        out[k] = v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else repr(v)
    return out


def _too_big(exc: ClientError) -> bool:
    """Whether the server refused a batch for its size (WEIR_SERVER_MAX_BODY_BYTES) or its
    item count (WEIR_SERVER_MAX_BATCH_ITEMS), not for what its items say."""
    return exc.status_code == 413 or (
        exc.status_code == 422 and "WEIR_SERVER_MAX_BATCH_ITEMS" in str(exc)
    )


def _joined(first: Any, second: Any) -> Any:
    """The answers to a batch sent in two halves, as one (task-run outcomes are lists)."""
    if isinstance(first, list) and isinstance(second, list):
        return first + second
    return first if second is None else second
