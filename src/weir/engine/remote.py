"""Running a task where the FlowRunner is not: in another process or on Dask.

The worker cannot reach the run's reporter, so ``run_remote`` gives the
TaskRunner a collecting reporter and sends what it collected (states, trace
events, log records) back with the final state; ``replay`` hands it all to the
real reporter in the FlowRunner's process, in order.

A task's concurrency slots cannot wait for that: they must be held while the task
runs. So when the run's reporter can take slots from elsewhere (its
``remote_slots()``, e.g. over HTTP), the FlowRunner sends that object along with
each tagged task, and the worker's reporter takes and gives back slots through it.
"""

from __future__ import annotations

import time
from typing import Any

from weir.context import FlowContext
from weir.engine import logs
from weir.engine.state import State


class CollectingReporter:
    """Records reports as tuples, to be replayed elsewhere."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, ...]] = []

    def task_run_state(self, slug: str, map_index: int | None, state: State) -> None:
        self.items.append(("state", slug, map_index, state))

    def trace(
        self,
        kind: str,
        slug: str | None = None,
        map_index: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.items.append(("trace", time.time(), kind, slug, map_index, data))

    def log(self, slug: str | None, map_index: int | None, record: dict[str, Any]) -> None:
        self.items.append(("log", slug, map_index, record))


class SlotCollectingReporter(CollectingReporter):
    """A collecting reporter that also takes concurrency slots, through ``slots``.

    ``slots`` is duck-typed (``acquire_slots``, ``release_slots``,
    ``cancel_requested``): the engine does not know who serves them.
    """

    def __init__(self, slots: Any) -> None:
        super().__init__()
        self.slots = slots

    def acquire_slots(self, tags: list[str], key: str) -> bool:
        return bool(self.slots.acquire_slots(tags, key))

    def release_slots(self, key: str) -> None:
        self.slots.release_slots(key)

    def cancel_requested(self) -> bool:
        return bool(self.slots.cancel_requested())


class RemoteOutcome:
    """A task's final state plus everything it reported on the way."""

    __slots__ = ("state", "items")

    def __init__(self, state: State, items: list[tuple[Any, ...]]) -> None:
        self.state = state
        self.items = items


def run_remote(
    runner: Any,
    upstream: dict[Any, State],
    run_count: int,
    map_index: int | None,
    flow_ctx: FlowContext,
    slots: Any = None,
) -> RemoteOutcome:
    """Run ``runner`` here; ``slots``, when given, takes the task's concurrency slots."""
    logs.install()
    collector = CollectingReporter() if slots is None else SlotCollectingReporter(slots)
    # The runner reports through the flow context, so only the context changes here.
    ctx = flow_ctx.copy()
    ctx.reporter = collector
    state = runner.run_in_flow(ctx, upstream, run_count, map_index)
    return RemoteOutcome(state, collector.items)


def replay(outcome: RemoteOutcome, reporter: Any) -> State:
    """Hand what a remote task reported to the local reporter; return its state."""
    log = getattr(reporter, "log", None)
    for item in outcome.items:
        kind = item[0]
        if kind == "state":
            reporter.task_run_state(item[1], item[2], item[3])
        elif kind == "trace":
            reporter.trace(item[2], item[3], item[4], item[5], ts=item[1])
        elif kind == "log" and log is not None:
            log(item[1], item[2], item[3])
    return outcome.state
