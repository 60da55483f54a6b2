"""The FlowRunner: drives a flow's DAG through an executor.

Scheduling is Kahn's algorithm over the run plan (see ``weir.engine.plan``): a
*unit* of work — a task, or one child ``k`` of a mapped task — is submitted when
the edges into it are released; when it finishes, its downstream edges are
released. Nothing rescans the graph, so a run costs O(tasks + edges).

Decisions apart from I/O
------------------------
As in a state machine that takes events and hands back instructions, the run is
split in two:

- :class:`_Scheduler` holds the run state and decides. Its transitions take an
  event and return what to do next as instructions; none of them submits, waits,
  reports or sleeps, and it reads the time through its ``clock`` (a test gives
  it one it moves by hand: tests/engine/test_scheduler.py).
- :meth:`_Run.drive` alone does I/O: it starts ready units, carries out the
  instructions, waits for completions and looks for a cancellation, in one place.

A unit's lifecycle, and the transition that moves it::

    ready ──start──▶ submitted ──done──▶ finished
      │                  ├──done──▶ retrying ──due_retries──▶ submitted
      │                  └──done──▶ paused (waits for approval; the run ends without it)
      ├──start/expand──▶ mapped: one child unit per item; finished once they all are
      ├──start──▶ finished (a given state, a Parameter, a problem found before running)
      └──start──▶ retrying / paused / held (given Scheduled, Retrying, Paused, Running…)

Transitions (methods of ``_Scheduler``; each returns a sequence of instructions):

- ``start(node, k)``: ready → submitted, mapped or finished;
- ``expand(node, given)``: ready → mapped (or finished, when there is nothing to map);
- ``done(node, k, state)``: submitted → finished, retrying or paused, by the state
  (``_finished``, ``_child_finished``, ``_mapped_finished``, ``_retrying``, ``_paused``);
- ``due_retries()``: retrying → submitted, for the retries due now;
- ``defer_to_later(max_wait)``: only far retries remain (or any, for one pass:
  ``max_wait`` 0): the run stops, to resume later;
- ``cancel()``: ready and retrying units are dropped.

Instructions (what ``drive()`` carries out):

- ``SUBMIT_IT``: what ``start`` says for most units: submit the unit just
  started, its first attempt (one shared value: the common case allocates nothing);
- ``Submit(node, map_index, run_count, start)``: hand one unit to the executor (from
  the state ``start``, for a unit given one in ``task_states``: a Retrying, a Resume…);
- ``SubmitChildren(node, map_indexes)``: hand a mapped task's ready children over
  in one batch (executors with ``batches_submits``);
- ``Report(node, map_index, state, ended)``: a state the run decided itself;
- ``Trace(kind, node, map_index, data)``: a trace event.

Run state
---------
In :class:`_Scheduler`, for one flow run:

- nodes: one record per task, in the plan's order :: [_Node]
- ready: units whose gate opened, started first in, first out (a mapped child
  whose upstream child just finished goes to the front) :: deque[(_Node, k | None)]
- retries: units to run again, soonest first :: heap[_Retry]
- held: units stopped without finishing (Paused, or given a state that does not run,
  such as Running), with that state, for the run's result :: {(_Node, k | None): State}
- cancelled: whether a cancellation stopped the run :: bool
- deferred_until: when the run stopped early, the time to resume it :: float | None

In a :class:`_Node`, for one task:

- index: its position in the plan's lists (tasks, slugs, up, down, mapped), where
  what does not change from run to run stays :: int
- runner: its TaskRunner; None for a Parameter, whose state is its value :: TaskRunner | None
- options: the executor's extra ``submit`` keywords for it :: {str: Any}
- state: its final state, None until it has one :: State | None
- gate: how many incoming edges are still held; it is ready at 0 :: int
- given: its state from an earlier run of the same flow run (a resume) :: State | None
- paused: whether it, or one of its children, waits for approval :: bool
- mapped: its children, once it expanded :: _MappedTask | None

In a :class:`_MappedTask`, for one mapped task once expanded:

- children: each child's final state, None until it has one :: [State | None]
- left: how many children have not finished :: int
- wait: per child, how many upstream children (pipelined edges) it still waits
  for; below zero for a child kept from an earlier run; None once the task
  finished :: [int] | None

A :class:`_Retry` is ``(due, seq, node, map_index, run_count, waiting, start)``: when
it is due, a tie-breaker that keeps equal times first come first served, the unit,
the attempt it starts, its state while it waits (its final state if the run stops
first), and the state its run starts from (given ones only).

Given states (``task_states``, ``node.given``) follow Prefect 1's rules in
``_start_given``: finished ones are kept, Pending runs, Scheduled and Retrying wait
on the retry heap until due, Paused is held (unless its time passed), Resume runs
approved; a given Mapped state applies them child by child (``_keep_children``).

In :class:`_Run`, the I/O side:

- done_q: completions, put there by the futures' done callbacks :: SimpleQueue[_Done]
- inflight: units submitted and not yet taken off ``done_q`` :: int
- futures: those units' futures, for a cancellation to stop :: {Future}

Completions come back through ``Future.add_done_callback`` into ``done_q``; the
loop blocks on it (with a timeout when a retry is due, and at least once a
second to look for a cancellation), so it never busy-waits and never sleeps.
Futures from the inline executor are done at once and are handled without
touching the queue; while it waits for a retry, the loop blocks on the empty
queue until the retry is due.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import heapq
import itertools
import logging
import queue
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from weir.context import FlowContext, parse_date, user_values
from weir.context import current as _current
from weir.core.edge import Edge
from weir.core.flow import Flow
from weir.core.task import Parameter, Task
from weir.engine import logs, signals
from weir.engine.checkpoint import ResultWriter, checkpointing_enabled
from weir.engine.flattening import flat_states, flatten_once
from weir.engine.plan import RunPlan, plan_for
from weir.engine.reporter import InMemoryReporter, Reporter
from weir.engine.state import (
    Cancelled,
    Failed,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from weir.engine.task_runner import TaskRunner, parameter_state, slot_key
from weir.engine.task_runner import logger as task_runner_logger
from weir.engine.triggers import all_successful
from weir.exceptions import ParameterError
from weir.executors.base import Call, Executor, TaskTimeoutError
from weir.executors.local import LocalExecutor

#: Prefect 1's ``prefect.FlowRunner``, named as weir's loggers are (``weir.…``).
logger = logging.getLogger("weir.FlowRunner")

__all__ = ["FlowRunner", "run_flow"]


class FlowRunner:
    """Runs a flow once: validates parameters, drives the DAG, returns the flow's State."""

    def __init__(
        self,
        flow: Flow,
        state_handlers: list[Callable[..., Any]] | None = None,
        reporter: Reporter | None = None,
    ) -> None:
        self.flow = flow
        self.reporter: Reporter = reporter if reporter is not None else InMemoryReporter()
        handlers = [*flow.state_handlers, *(state_handlers or ())]
        if flow.on_failure is not None:
            on_failure = flow.on_failure

            def _on_failure(f: Flow, old: State, new: State) -> None:
                if new.is_failed():
                    on_failure(f, new)

            handlers.append(_on_failure)
        self.handlers = handlers

    def prepare(self) -> None:
        """Build the flow's run plan and task runners now, for the next run to find ready.

        Both are cached on the flow, so a flow run again in one process builds them
        once. A process that runs a flow once (``weir execute flow-run``) calls this
        while it loads the flow, so that the run, once Running, only runs tasks.
        """
        self.flow.validate()
        _task_runners(plan_for(self.flow), self.flow)

    def run(
        self,
        parameters: Mapping[str, Any] | None = None,
        executor: Executor | None = None,
        run_on_schedule: bool | None = None,
        flow_run_id: str | None = None,
        flow_run_name: str | None = None,
        scheduled_start_time: Any = None,
        task_states: Mapping[Task, State] | None = None,
        context: Mapping[str, Any] | None = None,
        max_retry_wait: float | None = 0.0,
        state: State | None = None,
        return_tasks: Iterable[Task] | None = None,
        task_runner_state_handlers: Iterable[Callable[..., Any]] | None = None,
        resume_later: bool = False,
    ) -> State:
        """Run the flow once and return its final state (Prefect 1's ``FlowRunner.run``).

        ``state``: the flow run's state to start from (default Pending); a finished one,
        or a Scheduled one not yet due, is returned as it is. ``task_states``: tasks'
        states from an earlier pass; finished ones are kept, Pending ones run, Scheduled
        and Retrying ones run when due, Paused ones wait unless given as ``Resume``.
        ``return_tasks``: the tasks whose states the result holds (default none, as in
        Prefect 1; ``flow.run()`` asks for every task).
        ``task_runner_state_handlers``: extra handlers for every task, called as
        ``handler(task_runner, old_state, new_state)``.

        ``max_retry_wait``: how long this pass waits here for a task retry (or a given
        Scheduled task) that is due later. 0, the default as in Prefect 1: the pass
        ends, ``Running`` with those tasks ``Retrying`` in its result, to be run again
        with them as ``task_states`` (even a retry due now waits for that next pass);
        None waits for every one (what ``flow.run()`` does). With ``resume_later`` (a
        server's run) a pass that stops ends ``Scheduled`` for the next one's time
        instead: the agent's process exits and the run resumes then.
        """
        flow = self.flow
        start = state if state is not None else Pending()
        if not _may_start(start):
            return start  # as Prefect 1: finished, or not due yet: nothing runs
        flow.validate()
        params = self.check_parameters(parameters or {})
        executor = executor or flow.executor or LocalExecutor()
        logs.install()
        logger.info("Beginning Flow run for '%s'", flow.name)
        flow_ctx = FlowContext(
            flow_name=flow.name,
            flow_run_id=flow_run_id or str(uuid.uuid4()),
            flow_run_name=flow_run_name,
            parameters=params,
            # Prefect 1: "falls back to now for unscheduled runs", once for the whole run.
            scheduled_start_time=scheduled_start_time or _dt.datetime.now(_dt.timezone.utc),
            extra=_run_context(context),
        )
        # Asked once per run, so a task run tests one attribute to know.
        flow_ctx.log_task_runs = task_runner_logger.isEnabledFor(logging.DEBUG)
        # Flow state handlers (and the terminal one) read the run's context, as in
        # Prefect 1: flow_run_id, flow_name, parameters, scheduled_start_time...
        with _current_run(flow_ctx):
            running = Running("Running flow.")
            state = start if start.is_running() else self._transition(start, running)
            if not state.is_running():
                return state  # a flow state handler replaced Running (or raised): nothing runs
            try:
                wanted = _return_tasks(flow, return_tasks)
            except ValueError as exc:
                # Prefect 1 ends such a run Failed, with the error as its result.
                return self._transition(state, Failed(str(exc), result=exc))
            self.reporter.trace("flow_run_started", data={"flow": flow.name})
            flow_ctx.reporter = self.reporter
            plan = plan_for(flow)
            runners = _task_runners(plan, flow, task_runner_state_handlers)
            run = _Run(self, plan, executor, flow_ctx, dict(task_states or {}), runners)
            run.max_retry_wait = max_retry_wait
            run.resume_later = resume_later
            writer = flow_ctx.result_writer = ResultWriter() if executor.shares_memory else None
            try:
                with executor.start():
                    kind = type(executor).__name__
                    self.reporter.trace("executor_started", data={"executor": kind})
                    run.drive()
            finally:
                if writer is not None:
                    # Every checkpoint is on disk before the run may say it finished.
                    writer.close()
            final = self.determine_final_state(run)
            terminal_handler = flow.terminal_state_handler
            if terminal_handler is not None and not run.sched.cancelled:
                # Prefect 1: handler(flow, state, reference_task_states) may replace the state.
                reference_states = {final.result[t] for t in flow.reference_tasks()}
                final = terminal_handler(flow, final, reference_states) or final
            if wanted is not None and isinstance(final.result, dict):
                final.result = {t: s for t, s in final.result.items() if t in wanted}
            final = self._handled(state, final)
            # Said before the state is written, so that a reporter sending the state at once
            # sends them with it: a run's end is one request to the server, not two.
            self.reporter.trace("flow_run_finished", data={"state": final.name})
            logger.info("Flow run %s: %s", final.name.upper(), final.message)
            self.reporter.flow_run_state(final)
            return final

    def check_parameters(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Given values plus defaults; refuse unknown names and missing required ones."""
        known = {p.name: p for p in self.flow.parameters()}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ParameterError(
                f"Flow '{self.flow.name}' got unknown parameters: {', '.join(unknown)}. "
                f"Its parameters are: {', '.join(sorted(known)) or 'none'}."
            )
        missing = sorted(n for n, p in known.items() if p.required and n not in given)
        if missing:
            raise ParameterError(
                f"Flow '{self.flow.name}' needs a value for the required parameter"
                f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}: pass "
                f"parameters={{{', '.join(repr(m) + ': ...' for m in missing)}}}."
            )
        values = {n: p.default for n, p in known.items() if not p.required}
        values.update(given)
        return values

    def _transition(self, old: State, new: State) -> State:
        new = self._handled(old, new)
        self.reporter.flow_run_state(new)
        return new

    def _handled(self, old: State, new: State) -> State:
        """The state the flow run moves to from ``old``: ``new``, or what its state
        handlers made of it."""
        try:
            for handler in self.handlers:
                replaced = handler(self.flow, old, new)
                if replaced is not None:
                    new = replaced
        except signals.WeirStateSignal as sig:
            new = sig.state  # as in Prefect 1: a handler's signal is the state it carries
        except Exception as exc:
            # As in Prefect 1: a broken handler fails the flow run instead of escaping it.
            logger.exception(
                "Flow '%s': a state handler raised an error on %s -> %s.",
                self.flow.name,
                old.name,
                new.name,
            )
            # Keep the task states the flow's result promises, when there are any.
            result = new.result if new.result is not None else exc
            new = Failed(f"Exception raised while calling state handlers: {exc!r}", result=result)
        return new

    def determine_final_state(self, run: _Run) -> State:
        """Cancelled, still Running (paused tasks), Failed or Success, from reference tasks."""
        sched = run.sched
        results = sched.final_states()
        if sched.cancelled:
            return Cancelled("Flow run was cancelled.", result=results)
        if sched.deferred_until is not None:
            when = _dt.datetime.fromtimestamp(sched.deferred_until, tz=_dt.timezone.utc)
            at = when.isoformat(timespec="seconds")
            if run.resume_later:
                return Scheduled(
                    f"Flow run will resume at {at} for a task retry.",
                    start_time=sched.deferred_until,
                    result=results,
                )
            # Prefect 1: the pass ends with its tasks Retrying (or Scheduled); the caller
            # runs the flow again with them as task_states when they are due.
            return Running(f"Flow run is waiting for tasks due at {at}.", result=results)
        reference = self.flow.reference_tasks()
        ref_states = [results[t] for t in reference]
        # A mapped task waits while one of its children does (Paused, Retrying).
        waiting = [t for t in reference if not all(s.is_finished() for s in _units(results[t]))]
        if waiting:
            names = ", ".join(sorted(t.name for t in waiting))
            paused = sorted(
                {
                    sched.plan.tasks[n.index].name
                    for (n, _), st in sched.held.items()
                    if isinstance(st, Paused)
                }
            )
            if run.resume_later and paused:
                # A server's run: the process ends and the run waits for a person, who
                # resumes it; the next attempt runs the approved tasks (Prefect 1's Resume).
                return Paused(
                    f"Flow run is paused: {', '.join(paused)} waits for approval; resume "
                    "the run to let it go on.",
                    result=results,
                )
            return Running(
                f"Flow run is waiting on tasks that have not finished: {names}.", result=results
            )
        # A mapped reference task counts through its children, as in Prefect 1: one
        # failed child fails the flow, though the Mapped parent itself is a Success.
        key_states = [c for s in ref_states for c in _units(s)]
        if any(s.is_failed() for s in key_states):
            return Failed("Some reference tasks failed.", result=results)
        return Success("All reference tasks succeeded.", result=results)


@contextlib.contextmanager
def _current_run(flow_ctx: FlowContext) -> Iterator[None]:
    """``flow_ctx`` as the context of this thread while the run goes (a task run's own
    context takes its place while it runs), then what was before (a flow run in a task)."""
    token = _current.set(flow_ctx)
    try:
        yield
    finally:
        _current.reset(token)


def _run_context(given: Mapping[str, Any] | None) -> dict[str, Any]:
    """A run's own context values: those of the context it starts in (``with
    context(x=1): flow.run()``), then the ones given; ``date`` as text is parsed, as
    Prefect 1 does, so ``today`` and the other dates follow it."""
    values = {**user_values(), **(given or {})}
    date = values.get("date")
    if isinstance(date, str):
        parsed = parse_date(date)
        if parsed is None:
            logger.warning(
                "The context's date %r is not an ISO 8601 date; today, yesterday and the "
                "other dates follow the run's scheduled start instead.",
                date,
            )
            del values["date"]
        else:
            values["date"] = parsed
    return values


def _task_runners(
    plan: RunPlan, flow: Flow, extra_handlers: Iterable[Callable[..., Any]] | None = None
) -> list[TaskRunner | None]:
    """TaskRunners hold only static things, so one set serves every run of a plan.

    A run given its own ``task_runner_state_handlers`` builds its own set instead.
    """
    checkpoint = checkpointing_enabled(None, flow.checkpoint)
    if extra_handlers:
        return _runners_with_handlers(plan, flow, checkpoint, list(extra_handlers))
    key = (id(flow.result), checkpoint)
    cached = plan.runners.get(key)
    if cached is not None:
        return cached
    runners: list[TaskRunner | None] = [
        None
        if plan.is_parameter[i]
        else TaskRunner(
            t,
            slug=plan.slugs[i],
            constants=plan.constants[i],
            result=flow.result,
            checkpoint=checkpoint,
        )
        for i, t in enumerate(plan.tasks)
    ]
    plan.runners[key] = runners
    return runners


def _runners_with_handlers(
    plan: RunPlan, flow: Flow, checkpoint: bool, handlers: list[Callable[..., Any]]
) -> list[TaskRunner | None]:
    runners: list[TaskRunner | None] = []
    for i, t in enumerate(plan.tasks):
        if plan.is_parameter[i]:
            runners.append(None)
            continue
        runner = TaskRunner(
            t,
            slug=plan.slugs[i],
            constants=plan.constants[i],
            result=flow.result,
            checkpoint=checkpoint,
        )
        runner.handlers.extend(_RunnerHandler(h, runner) for h in handlers)
        runners.append(runner)
    return runners


class _RunnerHandler:
    """A ``task_runner_state_handlers`` entry: called with the TaskRunner (Prefect 1),
    where a task's own handlers get the task. A class, so it pickles to processes."""

    __slots__ = ("handler", "runner")

    def __init__(self, handler: Callable[..., Any], runner: TaskRunner) -> None:
        self.handler = handler
        self.runner = runner

    def __call__(self, _task: Task, old: State, new: State) -> State | None:
        return self.handler(self.runner, old, new)


def _may_start(state: State) -> bool:
    """Whether a flow run in ``state`` runs now (Prefect 1's checks before Running)."""
    if not (state.is_pending() or state.is_running()):
        return False  # finished, or a state no run starts from
    start = state.start_ts if isinstance(state, Scheduled) else None
    return start is None or start <= time.time()


class _EveryTask:
    """``return_tasks`` for every task (what ``flow.run()`` asks for): the result is
    then the run's own dict, not a filtered copy (a second dict, and a set of every
    task, were a tenth of a long chain's peak memory)."""

    def __iter__(self) -> Iterator[Task]:
        return iter(())


EVERY_TASK: Iterable[Task] = _EveryTask()


def _return_tasks(flow: Flow, tasks: Iterable[Task] | None) -> set[Task] | None:
    """The tasks the result keeps; None: all of them."""
    if tasks is EVERY_TASK:
        return None
    wanted = set(tasks or ())
    unknown = wanted - flow.tasks
    if unknown:
        names = ", ".join(sorted(getattr(t, "name", repr(t)) for t in unknown))
        raise ValueError(
            f"Flow '{flow.name}': some tasks in return_tasks are not in the flow: {names}."
        )
    return wanted


# --- run state ------------------------------------------------------------------------
class _Node:
    """One task's run state (see "Run state" in the module docstring).

    Kept small (a run holds one per task): what the plan knows about the task,
    its edges and whether it maps, stays in the plan's lists at ``index``.
    """

    __slots__ = ("index", "runner", "options", "state", "gate", "given", "paused", "mapped")

    def __init__(
        self, index: int, runner: TaskRunner | None, options: dict[str, Any], gate: int
    ) -> None:
        self.index = index
        self.runner = runner
        self.options = options
        self.state: State | None = None
        self.gate = gate
        self.given: State | None = None
        self.paused = False
        self.mapped: _MappedTask | None = None


class _MappedTask:
    """A mapped task's children, once it expanded (see "Run state")."""

    __slots__ = ("children", "left", "wait")

    def __init__(self, n: int) -> None:
        self.children: list[State | None] = [None] * n
        self.left = n
        self.wait: list[int] | None = [0] * n


class _Retry(NamedTuple):
    """A unit waiting to run again; the retry heap orders them by ``due``, then ``seq``."""

    due: float
    seq: int
    node: _Node
    map_index: int | None
    run_count: int
    #: Its state while it waits (Retrying, or a given Scheduled): its final state if the
    #: run stops first.
    waiting: State
    #: The state its run starts from, for a unit given one (None: Pending).
    start: State | None = None


class _Done(NamedTuple):
    """A submitted unit whose future is done, as the done queue carries it."""

    node: _Node
    map_index: int | None
    run_count: int
    future: Any


# --- instructions: what the decisions ask drive() to do ---------------------------------
class Submit(NamedTuple):
    """Hand one unit to the executor as attempt ``run_count``, from state ``start``
    (a retry's Retrying, so a loop goes on, or a state given in ``task_states``)."""

    node: _Node
    map_index: int | None
    run_count: int
    start: State | None = None


class SubmitChildren(NamedTuple):
    """Hand these children of a mapped task to the executor in one batch (first attempts)."""

    node: _Node
    map_indexes: list[int]


class Report(NamedTuple):
    """Tell the reporter a state the run decided itself (and, with ``ended``, that the
    task run ended: its ``task_finished`` event)."""

    node: _Node
    map_index: int | None
    state: State
    ended: bool


class Trace(NamedTuple):
    """Tell the reporter a trace event about a task."""

    kind: str
    node: _Node
    map_index: int | None
    data: dict[str, Any] | None


Instruction = Submit | SubmitChildren | Report | Trace
_NOTHING: tuple[Instruction, ...] = ()


class _SubmitIt:
    """The instruction ``start`` gives for most units: submit the unit just started, as
    its first attempt. One shared value, so the common case allocates nothing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SUBMIT_IT"


SUBMIT_IT = _SubmitIt()


# --- decisions ------------------------------------------------------------------------
class _Scheduler:
    """One run's state and the transitions on it; it never submits, waits or reports.

    Each transition takes an event (a unit is ready, a unit's state came back, time
    passed, a cancellation) and changes the run state: units that may start go on
    ``ready``, units to run again on ``retries``. What needs the outside world comes
    back as instructions for :meth:`_Run.drive`.
    """

    def __init__(
        self,
        plan: RunPlan,
        nodes: list[_Node],
        parameters: Mapping[str, Any],
        batch_children: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.plan = plan
        self.nodes = nodes
        self.parameters = parameters
        self.batch_children = batch_children
        self.clock = clock
        self.ready: deque[tuple[_Node, int | None]] = deque(
            (node, None) for node in nodes if node.gate == 0
        )
        self.retries: list[_Retry] = []
        self._seq = itertools.count()
        self.cancelled = False
        self.deferred_until: float | None = None
        #: Units that stopped without finishing (Paused, or given a state that does not
        #: run, such as Running): their states, for the run's result.
        self.held: dict[tuple[_Node, int | None], State] = {}
        #: A flattened edge's item states, made once per upstream state (see _items).
        self._flat: dict[Edge, tuple[State, list[State]]] = {}

    # --- ready → submitted | mapped | finished ----------------------------------------
    def start(self, node: _Node, k: int | None) -> Sequence[Instruction] | _SubmitIt:
        """A unit whose gate opened: a given state, a Parameter, a mapped parent or a run
        (``SUBMIT_IT``: its first attempt, the common case)."""
        if k is None:
            given = node.given
            if given is not None:
                if self.plan.mapped[node.index] and type(given) is Mapped:
                    # Children from an earlier run: expand to run those it left, if any.
                    return self.expand(node, given)
                if given.is_finished():
                    return self.done(node, None, given)
                out = self._start_given(node, None, given)
                if out is not None:
                    return out
            if node.runner is None:
                task = self.plan.tasks[node.index]
                assert isinstance(task, Parameter)
                state = parameter_state(task, self.parameters)
                return [Report(node, None, state, False), *self.done(node, None, state)]
            if self.plan.mapped[node.index]:
                return self.expand(node)
        return SUBMIT_IT

    def _start_given(
        self, node: _Node, k: int | None, given: State
    ) -> Sequence[Instruction] | None:
        """A unit given an unfinished state (Prefect 1's rules); None: run it as usual.

        Pending runs; Scheduled and Retrying run when due (Retrying as its next attempt);
        Resume runs approved; Paused waits for approval (it resumes by itself only once
        its start time passed); any other state (Running, Submitted) stays as it is.
        """
        if type(given) is Pending or node.runner is None:
            return None
        if not isinstance(given, Scheduled):
            self.held[(node, k)] = given
            return _NOTHING
        if isinstance(given, Paused) and given.start_ts is None:
            node.paused = True
            self.held[(node, k)] = given
            return _NOTHING
        run_count = given.run_count + 1 if isinstance(given, Retrying) else 1
        due = given.start_ts
        if due is not None and due > self.clock():
            retry = _Retry(due, next(self._seq), node, k, run_count, given, given)
            heapq.heappush(self.retries, retry)
            return _NOTHING
        return [Submit(node, k, run_count, given)]

    # --- submitted → finished | retrying | paused -------------------------------------
    def done(self, node: _Node, k: int | None, state: State) -> Sequence[Instruction]:
        """A unit's state came back (or was decided here): what it does to the run."""
        if isinstance(state, Paused):
            return self._paused(node, k, state)
        if isinstance(state, Retrying):
            return self._retrying(node, k, state)
        if not state.is_finished():
            # e.g. a state handler returned Pending: treat it as not run.
            return _NOTHING
        if k is None:
            return self._finished(node, state)
        return self._child_finished(node, k, state)

    def _paused(self, node: _Node, k: int | None, state: State) -> Sequence[Instruction]:
        node.paused = True
        if k is None:
            node.state = None
        self.held[(node, k)] = state
        return _NOTHING

    def _retrying(self, node: _Node, k: int | None, state: Retrying) -> Sequence[Instruction]:
        due = state.start_ts or self.clock()
        retry = _Retry(due, next(self._seq), node, k, state.run_count + 1, state, state)
        heapq.heappush(self.retries, retry)
        return _NOTHING

    def _finished(self, node: _Node, state: State) -> Sequence[Instruction]:
        node.state = state
        expanded = node.mapped is not None
        nodes = self.nodes
        for _e, d, pipelined in self.plan.down[node.index]:
            if pipelined and expanded:
                continue  # released when this task expanded
            self._release(nodes[d])
        return _NOTHING

    def _child_finished(self, node: _Node, k: int, state: State) -> Sequence[Instruction]:
        mapped = node.mapped
        assert mapped is not None
        mapped.children[k] = state
        nodes = self.nodes
        for _e, d, pipelined in self.plan.down[node.index]:
            if not pipelined:
                continue
            down = nodes[d]
            wait = down.mapped.wait if down.mapped is not None else None
            if wait is not None and k < len(wait):
                wait[k] -= 1
                if wait[k] == 0:
                    # Front of the queue: finish one item's chain before starting the next
                    # (depth-first), so finished items can be released early.
                    self.ready.appendleft((down, k))
        mapped.left -= 1
        if mapped.left == 0:
            return self._mapped_finished(node)
        return _NOTHING

    def _mapped_finished(self, node: _Node) -> Sequence[Instruction]:
        mapped = node.mapped
        assert mapped is not None
        children = mapped.children
        state = Mapped(
            f"Mapped {len(children)} children.",
            result=[c.result for c in children],  # type: ignore[union-attr]
            map_states=children,  # type: ignore[arg-type]
        )
        mapped.wait = None
        return [Report(node, None, state, True), *self._finished(node, state)]

    def _release(self, down: _Node) -> None:
        down.gate -= 1
        if down.gate == 0:
            self.ready.append((down, None))

    def _ended_unmapped(self, node: _Node, state: State) -> Sequence[Instruction]:
        """A mapped task that ends before it expands (nothing to map over, an upstream
        skipped or failed): no TaskRunner ran to report it, so the run does."""
        state = _parent_handled(node, state)
        return [Report(node, None, state, True), *self.done(node, None, state)]

    # --- ready → mapped ---------------------------------------------------------------
    def expand(self, node: _Node, given: Mapped | None = None) -> Sequence[Instruction]:
        """Fan a mapped task out into one child per item (or end it without children).

        ``given``: the task's state from an earlier run. When it lists one finished
        child per item, it is the task's state and nothing expands; otherwise its
        finished children are kept and do not run again (see :meth:`_keep_children`).
        """
        runner = node.runner
        assert runner is not None
        nodes = self.nodes
        parent_view: dict[Edge, State] = {}
        lengths: list[int] = []
        for e, j, _ in self.plan.up[node.index]:
            up = nodes[j]
            s = up.state
            if s is None:  # a pipelined upstream that has expanded but not finished
                assert up.mapped is not None
                lengths.append(len(up.mapped.children))
                continue
            parent_view[e] = s
            if e.mapped:
                problem = self._mappable_problem(node, e, j, s)
                if problem is not None:
                    return self._ended_unmapped(node, problem)
                lengths.append(len(self._items(e, s)))
        problem = _parent_check(runner, parent_view)
        if problem is not None:
            return self._ended_unmapped(node, problem)
        n = min(lengths) if lengths else 0
        if given is not None and _whole(given, n):
            return self.done(node, None, _with_children_results(given))
        if runner.handlers:
            # As in Prefect 1: the task's handlers hear Pending -> Mapped before any child
            # runs, and one that makes it another state ends the task there, childless.
            ready = _parent_handled(node, Mapped("Ready to proceed with mapping."))
            if not isinstance(ready, Mapped):
                return [Report(node, None, ready, True), *self.done(node, None, ready)]
        mapped = node.mapped = _MappedTask(n)
        wait = mapped.wait
        assert wait is not None
        for e, j, _ in self.plan.up[node.index]:
            up = nodes[j]
            if up.state is None and e.mapped:
                assert up.mapped is not None
                upstream_children = up.mapped.children
                for k in range(n):
                    if upstream_children[k] is None:
                        wait[k] += 1
        data = {"children": n}
        starts: list[Instruction] = []
        if given is not None:
            data["kept"] = self._keep_children(node, given.map_states, starts)
        out: list[Instruction] = [Trace("task_mapped", node, None, data), *starts]
        # Downstream mapped tasks fed child-by-child may expand now.
        for _e, d, pipelined in self.plan.down[node.index]:
            if pipelined:
                self._release(nodes[d])
        if mapped.left == 0:
            out += self._mapped_finished(node)
            return out
        ready_now = [k for k in range(n) if wait[k] == 0]
        if self.batch_children and len(ready_now) > 1 and runner.timeout is None:
            out.append(SubmitChildren(node, ready_now))
        else:
            self.ready.extend((node, k) for k in ready_now)
        return out

    def _keep_children(self, node: _Node, prior: list[State], starts: list[Instruction]) -> int:
        """Take an earlier run's finished children as this run's; return how many.

        Its unfinished children start from their states (see :meth:`_start_given`): what
        that asks for is added to ``starts``.

        Child ``k`` of the earlier run is child ``k`` here: a list no longer than this
        run's items is the front of them (the run stopped before it reached the rest),
        so the missing and unfinished children run. A longer list means the items
        changed since, so index ``k`` may name another item: nothing is kept.
        """
        mapped = node.mapped
        assert mapped is not None and mapped.wait is not None
        children, wait = mapped.children, mapped.wait
        if len(prior) > len(children):
            logger.info(
                "Task '%s': %d children were given but it maps over %d items now; "
                "every child runs.",
                self.plan.tasks[node.index].name,
                len(prior),
                len(children),
            )
            return 0
        kept = 0
        for k, s in enumerate(prior):
            if s is None or type(s) is Pending:
                continue
            # Below zero, so the upstream children finishing never start it.
            wait[k] = -1
            if s.is_finished():
                children[k] = s
                kept += 1
                continue
            # A child given Retrying, Scheduled, Paused, Resume…: started by its state.
            starts.extend(self._start_given(node, k, s) or ())
        mapped.left -= kept
        return kept

    def _mappable_problem(self, node: _Node, e: Edge, j: int, s: State) -> State | None:
        t = self.plan.tasks[node.index]
        up_name = self.plan.tasks[j].name
        if type(s) is Skipped and t.skip_on_upstream_skip:
            return Skipped(f"Upstream task '{up_name}' that this task maps over was skipped.")
        if not s.is_successful():
            return TriggerFailed(
                f"Upstream task '{up_name}' that this task maps over did not succeed "
                f"({s.name}), so there is nothing to map over."
            )
        try:
            items = self._items(e, s)
            len(items)
        except TypeError:
            items = None
        if isinstance(items, Mapping):
            # Indexable, but by its keys: child k would look up key k.
            return Failed(
                f"Task '{t.name}' cannot map over argument {e.key!r}: the result of "
                f"'{up_name}' is a {type(items).__name__}. Map over a list made of it "
                "(its keys, values or list(d.items())), or pass it with unmapped(...)."
            )
        # Children take items by index, so a set (sized, not indexable) cannot be mapped.
        if items is None or not hasattr(items, "__getitem__"):
            return Failed(
                f"Task '{t.name}' cannot map over argument {e.key!r}: the result of "
                f"'{up_name}' is a {type(s.result).__name__}, which has no length or cannot "
                "be indexed. Return a list (or a tuple), or pass it with unmapped(...)."
            )
        return None

    # --- retrying → submitted ---------------------------------------------------------
    def next_retry_in(self) -> float | None:
        """Seconds until the next retry is due (0 or less: due now); None: none waits."""
        return self.retries[0].due - self.clock() if self.retries else None

    def due_retries(self) -> Sequence[Instruction]:
        """The retries due by now, as submissions, soonest first."""
        now = self.clock()
        out: list[Instruction] = []
        while self.retries and self.retries[0].due <= now:
            retry = heapq.heappop(self.retries)
            out.append(Submit(retry.node, retry.map_index, retry.run_count, retry.start))
        return out

    def defer_to_later(self, max_wait: float | None) -> bool:
        """Only retries remain, due later than the run may wait here: stop for now.

        ``max_wait`` 0 is one pass (Prefect 1's ``FlowRunner.run``): it stops for any
        retry, even one due now."""
        if max_wait is None or not self.retries:
            return False
        due = self.retries[0].due
        if max_wait > 0 and due - self.clock() <= max_wait:
            return False
        self.deferred_until = due
        return True

    # --- anything → cancelled ---------------------------------------------------------
    def cancel(self) -> None:
        """Start nothing more: ready units and waiting retries are dropped."""
        self.cancelled = True
        self.ready.clear()
        self.retries.clear()

    # --- what a unit sees ----------------------------------------------------------------
    def plain_inputs(self, node: _Node, runner: TaskRunner) -> dict[str, Any] | None:
        """A task's inputs when its trigger is the default and every upstream succeeded.

        The same rule as the fast path of ``TaskRunner.plain_inputs_or_check_upstream``, read
        straight from the run's nodes: sharing that method through a generator of
        (edge, state) pairs cost about 1 µs per task on a chain (bench/engine_bench.py),
        so it stays inline.
        """
        incoming = self.plan.up[node.index]
        if not incoming or runner.trigger is not all_successful:
            return None
        nodes = self.nodes
        inputs = dict(runner.constants) if runner.constants else {}
        for e, j, _ in incoming:
            s = nodes[j].state
            if type(s) is not Success:
                return None
            key = e.key
            if key is not None:
                inputs[key] = flatten_once(s.result) if e.flattened and not e.mapped else s.result
        return inputs

    def upstream_states(self, node: _Node, k: int | None) -> dict[Any, State]:
        """The states a unit's trigger sees, by edge (a child sees its own items)."""
        incoming = self.plan.up[node.index]
        if not incoming:
            return {}
        nodes = self.nodes
        if k is None:
            return {e: nodes[j].state for e, j, _ in incoming}  # type: ignore[misc]
        out: dict[Any, State] = {}
        for e, j, pipelined in incoming:
            up = nodes[j]
            s = up.state
            if not e.mapped:
                out[e] = s  # type: ignore[assignment]
            elif pipelined:
                # Child k of a mapped upstream feeds child k here, with its own state.
                if s is None:
                    assert up.mapped is not None
                    out[e] = up.mapped.children[k]  # type: ignore[assignment]
                else:
                    assert isinstance(s, Mapped)
                    out[e] = s.map_states[k]
            else:
                assert s is not None
                if e.flattened:
                    out[e] = self._items(e, s)[k]
                else:
                    out[e] = Success(s.message, result=s.result[k])
        return out

    def _items(self, e: Edge, up: State) -> Any:
        """What a mapped edge maps over: the upstream's result, or for a flattened edge
        the states of its items (``flat_states``, made once for all the children)."""
        if not e.flattened:
            return up.result
        cached = self._flat.get(e)
        if cached is None or cached[0] is not up:
            cached = self._flat[e] = (up, flat_states(up))
        return cached[1]

    def final_states(self) -> dict[Task, State]:
        """Every task's state at the run's end: a unit that did not finish shows the state
        it waits in (Retrying, Scheduled, Paused), else Pending; a mapped task whose
        children did not all finish is Mapped over what its children are."""
        held = self.held
        if self.retries:
            held = {**held, **{(r.node, r.map_index): r.waiting for r in self.retries}}
        out: dict[Task, State] = {}
        for t, node in zip(self.plan.tasks, self.nodes, strict=True):
            state = node.state
            if state is None:
                if node.mapped is not None:
                    state = _partly_mapped(node, node.mapped, held)
                else:
                    state = held.get((node, None)) or _pending_state(node)
            out[t] = state
        return out


def _parent_check(runner: TaskRunner, parent_view: dict[Edge, State]) -> State | None:
    """A mapped parent's upstream-skipped check, over its unmapped upstreams."""
    from weir.engine.signals import ENDRUN

    try:
        runner.check_upstream_skipped({e: s for e, s in parent_view.items() if not e.mapped})
    except ENDRUN as end:
        return end.state
    return None


def _with_children_results(given: Mapped) -> Mapped:
    """A whole given Mapped state, with its children's results as its own (Prefect 1)."""
    if given.result is not None:
        return given
    # A new state: the given one may be the caller's, or reported already.
    whole = Mapped(
        given.message,
        result=[c.result for c in given.map_states],
        map_states=given.map_states,
        context=given.context,
        location=given.location,
    )
    whole.ts = given.ts
    return whole


def _units(state: State) -> Sequence[State]:
    """A Mapped state's children, or the state itself."""
    return state.map_states if type(state) is Mapped else (state,)


def _partly_mapped(
    node: _Node, mapped: _MappedTask, held: dict[tuple[_Node, int | None], State]
) -> Mapped:
    children = [
        c if c is not None else held.get((node, k)) or Pending("Task did not run.")
        for k, c in enumerate(mapped.children)
    ]
    return Mapped(
        f"Mapped {len(children)} children; not all finished.",
        result=[c.result for c in children],
        map_states=children,
    )


def _pending_state(node: _Node) -> State:
    if node.paused:
        return Paused("Waiting for manual approval.")
    return Pending("Task did not run.")


# --- I/O --------------------------------------------------------------------------------
class _Run:
    """One flow run's I/O: submits units, waits for them and reports (see the module)."""

    def __init__(
        self,
        runner: FlowRunner,
        plan: RunPlan,
        executor: Executor,
        flow_ctx: FlowContext,
        given_states: dict[Task, State],
        runners: list[TaskRunner | None] | None = None,
    ) -> None:
        self.plan = plan
        self.executor = executor
        self.flow_ctx = flow_ctx
        self.reporter = runner.reporter
        if runners is None:
            runners = _task_runners(plan, runner.flow)
        nodes = [
            _Node(i, r, _options(executor, r), gate)
            for i, (r, gate) in enumerate(zip(runners, plan.gate, strict=True))
        ]
        for t, s in given_states.items():
            i = plan.index.get(t)
            if i is not None:
                nodes[i].given = s
        self.done_q: queue.SimpleQueue[_Done] = queue.SimpleQueue()
        self.inflight = 0
        #: Futures handed out and not yet taken off ``done_q``: what a cancellation may
        #: still stop before it starts.
        self.futures: set[Any] = set()
        self.max_retry_wait: float | None = None
        #: Whether a run stopped for a later retry ends Scheduled (a server resumes it).
        self.resume_later = False
        self.inline = isinstance(executor, LocalExecutor)
        #: What tagged tasks take their concurrency slots through where they run, when
        #: that is not here (a server run on processes or Dask); None: nothing to take.
        self.remote_slots = None if executor.shares_memory else self.reporter.slots
        batch = executor.batches_submits and not executor.shares_memory
        self.sched = _Scheduler(plan, nodes, flow_ctx.parameters, batch)

    # --- the loop ------------------------------------------------------------------
    def drive(self) -> None:
        """Start ready units, wait for completions and retries, until nothing is left."""
        sched = self.sched
        ready = sched.ready
        cancel_requested = self.reporter.cancel_requested
        while True:
            # The one place the run looks for a cancellation: before each unit starts,
            # and after each wait. A task may have seen it itself (one waiting for a
            # concurrency slot ends Pending): the run is cancelled, not waiting on it.
            if cancel_requested():
                self._cancel()
                return
            if ready:
                node, k = ready.popleft()
                instructions = sched.start(node, k)
                if instructions is SUBMIT_IT:
                    self._submit(node, k, 1)
                elif instructions:
                    self._do(instructions)  # type: ignore[arg-type]
                continue
            wait = sched.next_retry_in()
            if wait is not None and self.max_retry_wait == 0:
                wait = None  # one pass: no retry runs in it, even one due now
            elif wait is not None and wait <= 0:
                self._do(sched.due_retries())
                continue
            if self.inflight == 0:
                if not sched.retries:
                    return  # nothing ready, running or waiting: the run is over
                if sched.defer_to_later(self.max_retry_wait):
                    return
            # Blocks until a unit is done, a retry is due or a second passed (to look for
            # a cancellation again); the inline executor has nothing in flight, so this
            # only waits for its next retry.
            self._take_done(_cap(wait))

    def _do(self, instructions: Sequence[Instruction]) -> None:
        """Carry out what a transition decided, in order."""
        for ins in instructions:
            if isinstance(ins, Submit):
                self._submit(ins.node, ins.map_index, ins.run_count, ins.start)
            elif isinstance(ins, Report):
                self._report(ins.node, ins.map_index, ins.state, ins.ended)
            elif isinstance(ins, Trace):
                slug = self.plan.slugs[ins.node.index]
                self.reporter.trace(ins.kind, slug, ins.map_index, ins.data)
            else:
                self._submit_children(ins.node, ins.map_indexes)

    def _take_done(self, timeout: float) -> None:
        try:
            done = self.done_q.get(timeout=timeout)
        except queue.Empty:
            return
        self.inflight -= 1
        self.futures.discard(done.future)
        self._finish(done.node, done.map_index, done.run_count, done.future)

    def _finish(self, node: _Node, k: int | None, run_count: int, fut: Any) -> None:
        instructions = self.sched.done(node, k, self._outcome(node, k, fut, run_count))
        if instructions:
            self._do(instructions)

    def _cancel(self) -> None:
        self.sched.cancel()
        self.reporter.trace("cancel_requested")
        if self.inline:
            return
        # Work still queued in the executor (a pool's backlog, a mapped task's many
        # children) does not start; work already running finishes, so its states are
        # not lost. A call stopped before it started keeps no state, like a task that
        # was never submitted.
        self.executor.cancel_queued(list(self.futures))
        while self.inflight:
            done = self.done_q.get()
            self.inflight -= 1
            self.futures.discard(done.future)
            if done.future.cancelled():
                continue
            self._finish(done.node, done.map_index, done.run_count, done.future)

    # --- submitting -----------------------------------------------------------------
    def _submit(
        self, node: _Node, k: int | None, run_count: int, start: State | None = None
    ) -> None:
        runner = node.runner
        assert runner is not None
        self.reporter.trace("task_submitted", runner.slug, k)
        ex = self.executor
        sched = self.sched
        if start is not None:
            fut = self._submit_from(runner, node, k, run_count, start)
        elif ex.shares_memory:
            # The common case (default trigger, every upstream a plain Success) hands the
            # runner its inputs, gathered here in the one pass that reads upstream states.
            inputs = sched.plain_inputs(node, runner) if k is None else None
            upstream = _NO_UPSTREAM if inputs is not None else sched.upstream_states(node, k)
            fut = ex.submit(
                runner.run_in_flow,
                self.flow_ctx,
                upstream,
                run_count,
                k,
                inputs,
                timeout=runner.timeout,
                **node.options,
            )
        else:
            from weir.engine.remote import run_remote

            fut = ex.submit(
                run_remote,
                runner,
                sched.upstream_states(node, k),
                run_count,
                k,
                self.flow_ctx,
                self.remote_slots if runner.tags else None,
                timeout=runner.timeout,
                **node.options,
            )
        if self.inline:
            self._finish(node, k, run_count, fut)
            return
        self.inflight += 1
        self.futures.add(fut)
        fut.add_done_callback(_on_done(self.done_q, node, k, run_count))

    def _submit_from(
        self, runner: TaskRunner, node: _Node, k: int | None, run_count: int, start: State
    ) -> Any:
        """Submit a unit given a state to start from (``task_states``): off the fast path."""
        from weir.engine.remote import run_remote

        ex = self.executor
        upstream = self.sched.upstream_states(node, k)
        if ex.shares_memory:
            return ex.submit(
                _run_from,
                runner,
                self.flow_ctx,
                upstream,
                run_count,
                k,
                start,
                timeout=runner.timeout,
                **node.options,
            )
        slots = self.remote_slots if runner.tags else None
        return ex.submit(
            run_remote,
            runner,
            upstream,
            run_count,
            k,
            self.flow_ctx,
            slots,
            start,
            timeout=runner.timeout,
            **node.options,
        )

    def _submit_children(self, node: _Node, ks: list[int]) -> None:
        """Send many children of a mapped task in one batch (see ``batches_submits``)."""
        from weir.engine.remote import run_remote

        runner = node.runner
        assert runner is not None
        slots = self.remote_slots if runner.tags else None
        upstream_states = self.sched.upstream_states
        calls: list[Call] = []
        for k in ks:
            self.reporter.trace("task_submitted", runner.slug, k)
            calls.append(
                (run_remote, (runner, upstream_states(node, k), 1, k, self.flow_ctx, slots), {})
            )
        futures = self.executor.submit_many(calls, **node.options)
        q = self.done_q
        self.inflight += len(futures)
        self.futures.update(futures)
        for k, fut in zip(ks, futures, strict=True):
            fut.add_done_callback(_on_done(q, node, k, 1))

    # --- what comes back ------------------------------------------------------------
    def _outcome(self, node: _Node, k: int | None, fut: Any, run_count: int = 1) -> State:
        """The state a future carries, or a Failed/TimedOut state for executor errors."""
        try:
            out = fut.result()
        except TaskTimeoutError as exc:
            self._give_back_slots(node, k)
            state: State = TimedOut(f"Task timed out and was stopped: {exc}", result=exc)
            runner = node.runner
            if runner is not None:
                # The executor stopped the task (it killed the worker), so the TaskRunner
                # never saw the timeout: apply the task's retries here.
                state = runner.check_for_retry(state, run_count, k, self.reporter)
            self._report(node, k, state)
            return state
        except Exception as exc:
            self._give_back_slots(node, k)
            if self.flow_ctx.extra.get("raise_on_exception"):
                raise  # Prefect 1's debugging switch: a task's error leaves flow.run()
            logger.error(
                "Task '%s': the executor could not run it: %r",
                self.plan.tasks[node.index].name,
                exc,
                exc_info=exc,
            )
            state = Failed(f"The executor could not run the task: {exc!r}", result=exc)
            self._report(node, k, state)
            return state
        if isinstance(out, State):
            return out
        from weir.engine.remote import replay

        return replay(out, self.reporter)

    def _give_back_slots(self, node: _Node, k: int | None) -> None:
        """Release the slots of a task run its executor lost.

        A worker killed for its timeout, or one that died, never reached the
        TaskRunner's own release; until the flow run ends, its slots would keep the
        run's next tagged tasks (and everyone else's) waiting.
        """
        runner = node.runner
        slots = self.remote_slots
        if slots is None or runner is None or not runner.tags:
            return
        try:
            slots.release_slots(slot_key(self.flow_ctx.flow_run_id, runner.slug, k))
        except Exception as exc:  # noqa: BLE001 - the run's end frees them anyway
            logger.warning(
                "Task '%s': could not give back its concurrency slots: %s", runner.task.name, exc
            )

    def _report(self, node: _Node, k: int | None, state: State, ended: bool = True) -> None:
        """A state the run decided itself (a Parameter, a mapped parent, an executor error)."""
        slug = self.plan.slugs[node.index]
        self.reporter.task_run_state(slug, k, state)
        if ended and state.is_finished():
            self.reporter.trace("task_finished", slug, k, {"state": state.name})


def _parent_handled(node: _Node, state: State) -> State:
    """A mapped task's own move (to ``Mapped`` as it expands, or the state it ended in
    without children) as its state handlers make it, though no TaskRunner runs the
    parent itself."""
    runner = node.runner
    if runner is None or not runner.handlers:
        return state
    return runner._handled(Pending(), state)


def _run_from(
    runner: TaskRunner,
    flow_ctx: FlowContext,
    upstream: dict[Any, State],
    run_count: int,
    k: int | None,
    start: State,
) -> State:
    """A unit's run from a given state (every argument positional, for any executor)."""
    return runner.run_in_flow(flow_ctx, upstream, run_count, k, state=start)


_NO_UPSTREAM: dict[Any, State] = {}
#: Read-only: passed as ``**options``, never changed.
_NO_OPTIONS: dict[str, Any] = {}


def _options(executor: Executor, runner: TaskRunner | None) -> dict[str, Any]:
    """The executor's submit options for a task; most want none, and then all tasks
    share one empty dict (a dict per task was a tenth of a run's memory)."""
    return (runner is not None and executor.task_options(runner.task)) or _NO_OPTIONS


def _on_done(
    q: queue.SimpleQueue[_Done], node: _Node, k: int | None, run_count: int
) -> Callable[[Any], None]:
    """A future's done callback: put the unit on the done queue, from any thread."""
    return lambda future: q.put(_Done(node, k, run_count, future))


def _whole(state: Mapped, n: int) -> bool:
    """Whether a given Mapped state holds all ``n`` children of this run, finished."""
    children = state.map_states
    return len(children) == n and all(c is not None and c.is_finished() for c in children)


def _cap(timeout: float | None) -> float:
    # Wake up at least once a second to notice cancellation.
    return 1.0 if timeout is None else max(0.0, min(timeout, 1.0))


def run_flow(flow: Flow, **kwargs: Any) -> State:
    """What ``Flow.run`` calls: run once, or on the flow's schedule when asked."""
    run_on_schedule = kwargs.pop("run_on_schedule", None)
    runner_kwargs = {k: kwargs.pop(k) for k in ("reporter", "state_handlers") if k in kwargs}
    runner_kwargs["runner_cls"] = kwargs.pop("runner_cls", None) or FlowRunner
    if flow.schedule is not None and run_on_schedule is not False:
        return _run_on_schedule(flow, runner_kwargs, kwargs)
    return _run_to_the_end(flow, runner_kwargs, kwargs)


def _run_to_the_end(flow: Flow, runner_kwargs: dict[str, Any], kwargs: dict[str, Any]) -> State:
    """One flow run as Prefect 1's ``Flow.run`` makes it: task retries are waited for
    here, and a task Paused for approval is asked about on the terminal; approved, the
    run goes on from where it stopped (its finished tasks kept), with the task Resumed.

    Prefect 1 asks again and again until approval; here a refusal, or no terminal to
    ask on, ends the run Running with the task Paused, for the caller to resume it with
    ``task_states={task: Resume()}``.
    """
    kwargs = {"max_retry_wait": None, "return_tasks": EVERY_TASK, **kwargs}
    kwargs.setdefault("flow_run_id", str(uuid.uuid4()))
    runner_kwargs = dict(runner_kwargs)
    runner_cls = runner_kwargs.pop("runner_cls", FlowRunner)
    # As Prefect 1's Flow.run: the run starts Scheduled, due now (or at its schedule's
    # time), so flow state handlers see Scheduled -> Running first.
    start = kwargs.get("scheduled_start_time")
    kwargs.setdefault("state", Scheduled(start_time=start if start is not None else time.time()))
    state = runner_cls(flow=flow, **runner_kwargs).run(**kwargs)
    while state.is_running() and isinstance(state.result, dict):
        approved = _approved_to_resume(state.result)
        if not approved:
            return state
        given = {**state.result, **{t: Resume("Approval given to resume.") for t in approved}}
        again = {**kwargs, "state": state, "task_states": given}
        state = runner_cls(flow=flow, **runner_kwargs).run(**again)
    return state


def _approved_to_resume(results: Mapping[Task, State]) -> list[Task]:
    """The Paused tasks a person at the terminal approves (Prefect 1's prompt)."""
    paused = [t for t, s in results.items() if type(s) is Paused]
    if not paused or sys.stdin is None or not sys.stdin.isatty():
        return []
    approved = []
    for t in paused:
        try:
            answer = input(f"{t} is currently Paused; enter 'y' to resume:\n")
        except EOFError:
            break
        if answer.strip().lower() == "y":
            approved.append(t)
    return approved


def _run_on_schedule(flow: Flow, runner_kwargs: dict[str, Any], kwargs: dict[str, Any]) -> State:
    """Run at each of the schedule's times, forever (Prefect 1's local scheduling).

    As in Prefect 1: a schedule with no time left raises ValueError before any run,
    and a clock's ``parameter_defaults`` win over the parameters given to ``run``.
    """
    state: State | None = None
    while True:
        events = flow.schedule.next(1, return_events=True)
        if not events:
            if state is None:
                raise ValueError(
                    f"Flow '{flow.name}' has no more scheduled runs: its schedule has no "
                    "time after now. Run it with run_on_schedule=False to run it once now."
                )
            return state
        event = events[0]
        start = event.start_time
        delay = start.timestamp() - time.time()
        if delay > 0:
            logger.info(
                "Flow '%s': waiting until %s for the next scheduled run.",
                flow.name,
                start.isoformat(),
            )
            time.sleep(delay)
        params = {
            **(kwargs.get("parameters") or {}),
            **(getattr(event, "parameter_defaults", None) or {}),
        }
        state = _run_to_the_end(
            flow, runner_kwargs, {**kwargs, "parameters": params, "scheduled_start_time": start}
        )
