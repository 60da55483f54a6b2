"""Running a task where the FlowRunner is not: in another process or on Dask.

The worker cannot reach the run's reporter, so ``run_remote`` gives the
TaskRunner a collecting reporter and sends what it collected (states, trace
events, log records) back with the final state; ``replay`` hands it all to the
real reporter in the FlowRunner's process, in order.

Secret values are masked by the process that read them (``weir.masking``). A
secret a task read in one worker, and passed to a task in another that logs it,
would reach the run's log as it is: so the values a task read go back with its
outcome, the run's process remembers them, and ``replay`` masks every log line
with all it knows before handing it on.

A task's concurrency slots cannot wait for that: they must be held while the task
runs. So when the run's reporter has ``slots`` (a :class:`SlotProvider` that
pickles, e.g. one that asks the server over HTTP), the FlowRunner sends it along
with each tagged task, and the worker's reporter takes and gives back slots
through it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from weir import masking
from weir.context import FlowContext
from weir.engine import logs
from weir.engine.reporter import Reporter, SlotProvider
from weir.engine.state import State

if TYPE_CHECKING:
    from weir.engine.task_runner import TaskRunner


class CollectingReporter:
    """Records reports as tuples, to be replayed in the FlowRunner's process.

    ``slots``, when given, takes the task's concurrency slots from here (see the
    module docstring); a cancellation is learnt through it too.
    """

    def __init__(self, slots: SlotProvider | None = None) -> None:
        self.items: list[tuple[Any, ...]] = []
        self.slots = slots

    def flow_run_state(self, state: State) -> None:
        self.items.append(("flow", state))

    def task_run_state(self, slug: str, map_index: int | None, state: State) -> None:
        self.items.append(("state", slug, map_index, state))

    def task_run_name(self, slug: str, map_index: int | None, name: str) -> None:
        self.items.append(("name", slug, map_index, name))

    def trace(
        self,
        kind: str,
        slug: str | None = None,
        map_index: int | None = None,
        data: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> None:
        self.items.append(("trace", ts or time.time(), kind, slug, map_index, data))

    def log(self, slug: str | None, map_index: int | None, record: dict[str, Any]) -> None:
        self.items.append(("log", slug, map_index, record))

    def cancel_requested(self) -> bool:
        return self.slots is not None and bool(self.slots.cancel_requested())


class RemoteOutcome:
    """A task's final state plus everything it reported on the way."""

    __slots__ = ("state", "items")

    def __init__(self, state: State, items: list[tuple[Any, ...]]) -> None:
        self.state = state
        self.items = items


def run_remote(
    runner: TaskRunner,
    upstream: dict[Any, State],
    run_count: int,
    map_index: int | None,
    flow_ctx: FlowContext,
    slots: SlotProvider | None = None,
    start: State | None = None,
) -> RemoteOutcome:
    """Run ``runner`` here; ``slots``, when given, takes the task's concurrency slots;
    ``state``: the one to start from (a retry's)."""
    logs.install()
    collector = CollectingReporter(slots)
    # The runner reports through the flow context, so only the context changes here.
    ctx = flow_ctx.copy()
    ctx.reporter = collector
    before = masking.known()
    final = runner.run_in_flow(ctx, upstream, run_count, map_index, state=start)
    read = masking.known()
    if read != before:  # the task read secrets: the run's process masks them too
        collector.items.insert(0, ("secrets", tuple(set(read) - set(before))))
    return RemoteOutcome(final, collector.items)


def replay(outcome: RemoteOutcome, reporter: Reporter) -> State:
    """Hand what a remote task reported to the local reporter; return its state."""
    for item in outcome.items:
        kind = item[0]
        if kind == "state":
            reporter.task_run_state(item[1], item[2], item[3])
        elif kind == "name":
            reporter.task_run_name(item[1], item[2], item[3])
        elif kind == "trace":
            reporter.trace(item[2], item[3], item[4], item[5], ts=item[1])
        elif kind == "log":
            reporter.log(item[1], item[2], _masked(item[3]))
        elif kind == "secrets":
            masking.remember(list(item[1]))
        elif kind == "flow":
            reporter.flow_run_state(item[1])
    return outcome.state


def _masked(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with the secrets this process knows masked in its message."""
    message = record.get("message")
    if not isinstance(message, str):
        return record
    masked = masking.mask(message)
    return record if masked is message else {**record, "message": masked}
