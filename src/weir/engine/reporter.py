"""Reporters: where the engine says what happens during a run.

The runners never talk to the outside world directly; every state change, trace
event and log line goes through a Reporter. ``InMemoryReporter`` keeps them in
lists (``flow.run()``); the API reporter (weir.client) sends them to the server
in batches from a background thread. Every method must be cheap: they are called
on the task path.

Trace event kinds the engine emits: ``flow_run_started``, ``executor_started``,
``task_submitted``, ``task_started``, ``task_mapped``, ``task_finished`` (data:
``{"state": name}``, for every task run that ends, whether it ran or not),
``task_retry_scheduled``, ``task_looped``, ``cancel_requested``, ``flow_run_finished``.

A run on a server also honours concurrency limits: its reporter's ``slots`` is a
:class:`SlotProvider` that takes and gives back the slots of tagged task runs
(None: there are no limits to honour). The FlowRunner reads it once per run and,
when tasks run in other processes, sends it along with them (so it must pickle).

Every reporter implements the whole protocol: ``InMemoryReporter`` and
``NullReporter`` here, ``CollectingReporter`` (``weir.engine.remote``) in
worker processes, ``ApiReporter`` (``weir.execution.reporter``) under a server.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from weir.engine.state import State

__all__ = ["InMemoryReporter", "NullReporter", "Reporter", "SlotProvider", "TraceEvent"]

#: (timestamp, kind, task slug or None, map index or None, data or None)
TraceEvent = tuple[float, str, "str | None", "int | None", "dict[str, Any] | None"]


class SlotProvider(Protocol):
    """Takes and gives back the concurrency slots of task runs, by task-run key."""

    def acquire_slots(self, tags: list[str], key: str) -> bool:
        """Take a slot of each tag's limit for the task run ``key``; False: wait, ask again."""
        ...

    def release_slots(self, key: str) -> None: ...

    def cancel_requested(self) -> bool:
        """True once someone asked for the run to stop (asked while a task waits)."""
        ...


class Reporter(Protocol):
    """What a runner reports; implementations must be cheap and thread-safe."""

    @property
    def slots(self) -> SlotProvider | None:
        """Where tagged task runs take their concurrency slots; None: no limits."""
        ...

    def flow_run_state(self, state: State) -> None: ...

    def task_run_state(self, slug: str, map_index: int | None, state: State) -> None: ...

    def task_run_name(self, slug: str, map_index: int | None, name: str) -> None:
        """The name the task's ``task_run_name`` made for this task run, before its
        next state (Prefect 1 sets it on the task run, where its UI shows it)."""
        ...

    def trace(
        self,
        kind: str,
        slug: str | None = None,
        map_index: int | None = None,
        data: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> None: ...

    def log(self, slug: str | None, map_index: int | None, record: dict[str, Any]) -> None:
        """A log record emitted inside the run (``record``: timestamp, level, name, message)."""
        ...

    def cancel_requested(self) -> bool:
        """True once someone asked for this run to stop."""
        ...


class InMemoryReporter:
    """Keeps every report in memory; what ``flow.run()`` uses.

    ``task_states`` holds each task run's state history, keyed by (slug, map index).
    List appends are atomic in CPython, so worker threads may report concurrently.
    """

    def __init__(self, keep_task_history: bool = True) -> None:
        self.flow_states: list[State] = []
        self.task_states: dict[tuple[str, int | None], list[State]] = {}
        #: Each named task run's name (``task_run_name``), keyed as ``task_states``.
        self.task_run_names: dict[tuple[str, int | None], str] = {}
        self.events: list[TraceEvent] = []
        self.logs: list[tuple[str | None, int | None, dict[str, Any]]] = []
        self.keep_task_history = keep_task_history
        self.cancelled = False
        #: No server, so no concurrency limits to honour.
        self.slots: SlotProvider | None = None

    def flow_run_state(self, state: State) -> None:
        self.flow_states.append(state)

    def task_run_state(self, slug: str, map_index: int | None, state: State) -> None:
        if self.keep_task_history:
            history = self.task_states.get((slug, map_index))
            if history is None:
                self.task_states[(slug, map_index)] = [state]
            else:
                history.append(state)

    def task_run_name(self, slug: str, map_index: int | None, name: str) -> None:
        self.task_run_names[(slug, map_index)] = name

    def trace(
        self,
        kind: str,
        slug: str | None = None,
        map_index: int | None = None,
        data: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> None:
        self.events.append((ts or time.time(), kind, slug, map_index, data))

    def log(self, slug: str | None, map_index: int | None, record: dict[str, Any]) -> None:
        self.logs.append((slug, map_index, record))

    def cancel_requested(self) -> bool:
        return self.cancelled

    def cancel(self) -> None:
        """Ask the run to stop (used by tests and embedding code)."""
        self.cancelled = True


class NullReporter:
    """Drops every report: for a task run that has nowhere to report to."""

    slots: SlotProvider | None = None

    def flow_run_state(self, state: State) -> None:
        pass

    def task_run_state(self, slug: str, map_index: int | None, state: State) -> None:
        pass

    def task_run_name(self, slug: str, map_index: int | None, name: str) -> None:
        pass

    def trace(
        self,
        kind: str,
        slug: str | None = None,
        map_index: int | None = None,
        data: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> None:
        pass

    def log(self, slug: str | None, map_index: int | None, record: dict[str, Any]) -> None:
        pass

    def cancel_requested(self) -> bool:
        return False
