"""The FlowRunner: drives a flow's DAG through an executor.

Scheduling is Kahn's algorithm over the run plan (see ``weir.engine.plan``): a
unit of work — a task, or one child ``k`` of a mapped task — is submitted when
the edges into it are released; when it finishes, its downstream edges are
released. Nothing rescans the graph, so a run costs O(tasks + edges).

Completions come back through ``Future.add_done_callback`` into one queue; the
loop blocks on that queue (with a timeout only when a retry is due), so it never
busy-waits. Futures from the inline executor are done at once and are handled
without touching the queue.

Run state lives in :class:`_Run` (one per flow run): per task its final state,
how many incoming edges are still held (``gate``), and for mapped tasks their
children's states and counters.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import itertools
import logging
import queue
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from weir.context import FlowContext
from weir.core.flow import Flow
from weir.core.task import Parameter, Task
from weir.engine import logs
from weir.engine.checkpoint import ResultWriter, checkpointing_enabled
from weir.engine.plan import RunPlan, plan_for
from weir.engine.reporter import InMemoryReporter, Reporter
from weir.engine.state import (
    Cancelled,
    Failed,
    Mapped,
    Paused,
    Pending,
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
from weir.engine.triggers import all_successful
from weir.exceptions import ParameterError
from weir.executors.base import Executor, TaskTimeoutError
from weir.executors.local import LocalExecutor

logger = logging.getLogger(__name__)

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
        self.reporter: Any = reporter if reporter is not None else InMemoryReporter()
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
        max_retry_wait: float | None = None,
    ) -> State:
        """Run the flow once and return its final state.

        ``max_retry_wait``: when only task retries remain and the next is due later than
        this many seconds, stop and return ``Scheduled`` for that time instead of waiting
        (an agent's process then exits and the run resumes when due).
        """
        flow = self.flow
        flow.validate()
        params = self.check_parameters(parameters or {})
        executor = executor or flow.executor or LocalExecutor()
        flow_ctx = FlowContext(
            flow_name=flow.name,
            flow_run_id=flow_run_id or str(uuid.uuid4()),
            flow_run_name=flow_run_name,
            parameters=params,
            # Prefect 1: "falls back to now for unscheduled runs", once for the whole run.
            scheduled_start_time=scheduled_start_time or _dt.datetime.now(_dt.timezone.utc),
            extra=dict(context or {}),
        )
        state: State = Pending()
        state = self._transition(state, Running("Running flow."))
        if not state.is_running():
            return state  # a flow state handler replaced Running (or raised): nothing runs
        self.reporter.trace("flow_run_started", data={"flow": flow.name})
        flow_ctx.reporter = self.reporter
        logs.install()
        run = _Run(self, plan_for(flow), executor, flow_ctx, dict(task_states or {}))
        run.max_retry_wait = max_retry_wait
        writer = flow_ctx.result_writer = ResultWriter() if executor.shares_memory else None
        try:
            with executor.start():
                self.reporter.trace("executor_started", data={"executor": type(executor).__name__})
                run.drive()
        finally:
            if writer is not None:
                # Every checkpoint is on disk before the run may say it finished.
                writer.close()
        final = self.determine_final_state(run)
        terminal_handler = flow.terminal_state_handler
        if terminal_handler is not None and not run.cancelled:
            # Prefect 1: handler(flow, state, reference_task_states) may replace the state.
            reference_states = {final.result[t] for t in flow.reference_tasks()}
            final = terminal_handler(flow, final, reference_states) or final
        final = self._transition(state, final)
        self.reporter.trace("flow_run_finished", data={"state": final.name})
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
        try:
            for handler in self.handlers:
                replaced = handler(self.flow, old, new)
                if replaced is not None:
                    new = replaced
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
        self.reporter.flow_run_state(new)
        return new

    def determine_final_state(self, run: _Run) -> State:
        """Cancelled, still Running (paused tasks), Failed or Success, from reference tasks."""
        plan = run.plan
        results: dict[Task, State] = {}
        for i, t in enumerate(plan.tasks):
            s = run.states[i]
            results[t] = s if s is not None else run.pending_state(i)
        if run.cancelled:
            return Cancelled("Flow run was cancelled.", result=results)
        if run.deferred_until is not None:
            when = _dt.datetime.fromtimestamp(run.deferred_until, tz=_dt.timezone.utc)
            return Scheduled(
                f"Flow run will resume at {when.isoformat(timespec='seconds')} for a task retry.",
                start_time=run.deferred_until,
                result=results,
            )
        reference = self.flow.reference_tasks()
        ref_states = [results[t] for t in reference]
        waiting = [t for t in reference if not results[t].is_finished()]
        if waiting:
            names = ", ".join(sorted(t.name for t in waiting))
            return Running(
                f"Flow run is waiting on tasks that have not finished: {names}.", result=results
            )
        # A mapped reference task counts through its children, as in Prefect 1: one
        # failed child fails the flow, though the Mapped parent itself is a Success.
        key_states = [c for s in ref_states for c in (s.map_states if type(s) is Mapped else (s,))]
        if any(s.is_failed() for s in key_states):
            return Failed("Some reference tasks failed.", result=results)
        return Success("All reference tasks succeeded.", result=results)


def _remote_slots(reporter: Any) -> Any:
    """The reporter's stand-in for taking slots from other processes, if it has one."""
    make = getattr(reporter, "remote_slots", None)
    return make() if make is not None else None


def _task_runners(plan: RunPlan, flow: Flow) -> list[TaskRunner | None]:
    """TaskRunners hold only static things, so one set serves every run of a plan."""
    checkpoint = checkpointing_enabled(None, flow.checkpoint)
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


class _Run:
    """The mutable state of one flow run (see the module docstring)."""

    def __init__(
        self,
        runner: FlowRunner,
        plan: RunPlan,
        executor: Executor,
        flow_ctx: FlowContext,
        given_states: dict[Task, State],
    ) -> None:
        self.runner = runner
        self.plan = plan
        self.executor = executor
        self.flow_ctx = flow_ctx
        self.reporter = runner.reporter
        n = len(plan.tasks)
        self.states: list[State | None] = [None] * n
        self.gate = list(plan.gate)
        self.ready: deque[tuple[int, int | None]] = deque()
        self.done_q: queue.SimpleQueue[tuple[int, int | None, int, Any]] = queue.SimpleQueue()
        self.inflight = 0
        #: Futures handed out and not yet taken off ``done_q``: what a cancellation may
        #: still stop before it starts.
        self.futures: set[Any] = set()
        self.retries: list[tuple[float, int, int, int | None, int]] = []
        self._seq = itertools.count()
        self.cancelled = False
        self.max_retry_wait: float | None = None
        #: Set when the run stopped early to resume later for a retry (see max_retry_wait).
        self.deferred_until: float | None = None
        # Mapped tasks: children's states, how many remain, what each child waits for.
        self.n_children: dict[int, int] = {}
        self.child_states: dict[int, list[State | None]] = {}
        self.children_left: dict[int, int] = {}
        self.child_wait: dict[int, list[int]] = {}
        self.paused: set[tuple[int, int | None]] = set()
        self.runners = _task_runners(plan, runner.flow)
        self.options = [{} if r is None else executor.task_options(r.task) for r in self.runners]
        self.submit_many = (
            None if executor.shares_memory else getattr(executor, "submit_many", None)
        )
        #: What tagged tasks take their concurrency slots through where they run, when
        #: that is not here (a server run on processes or Dask); None: nothing to take.
        self.remote_slots = None if executor.shares_memory else _remote_slots(self.reporter)
        self.given_states = {plan.index[t]: s for t, s in given_states.items() if t in plan.index}
        self.inline = isinstance(executor, LocalExecutor)

    # --- the loop ------------------------------------------------------------------
    def drive(self) -> None:
        for i, g in enumerate(self.gate):
            if g == 0:
                self.ready.append((i, None))
        ready = self.ready
        while True:
            while ready:
                if self.reporter.cancel_requested():
                    self._cancel()
                    return
                i, k = ready.popleft()
                self._start(i, k)
            if self.inflight == 0 and not self.retries:
                # A task may have seen the cancellation itself (one waiting for a
                # concurrency slot ends Pending): the run is cancelled, not waiting on it.
                if not self.cancelled and self.reporter.cancel_requested():
                    self._cancel()
                return
            if self.inflight == 0 and self._defer_to_later():
                return
            timeout = None
            if self.retries:
                timeout = self.retries[0][0] - time.time()
                if timeout <= 0:
                    # Nothing else may be running (inline executor), so look here too.
                    if self.reporter.cancel_requested():
                        self._cancel()
                        return
                    self._release_due_retries()
                    continue
            if self.inline and self.inflight == 0:
                time.sleep(min(timeout or 0.0, 1.0))
                continue
            try:
                i, k, run_count, fut = self.done_q.get(timeout=_cap(timeout))
            except queue.Empty:
                if self.reporter.cancel_requested():
                    self._cancel()
                    return
                continue
            self.inflight -= 1
            self.futures.discard(fut)
            self._complete(i, k, self._outcome(i, k, fut, run_count), run_count)

    def _defer_to_later(self) -> bool:
        """Only retries remain, due later than the run may wait here: stop for now."""
        if self.max_retry_wait is None or not self.retries:
            return False
        due = self.retries[0][0]
        if due - time.time() <= self.max_retry_wait:
            return False
        self.deferred_until = due
        return True

    def _release_due_retries(self) -> None:
        now = time.time()
        while self.retries and self.retries[0][0] <= now:
            _, _, i, k, run_count = heapq.heappop(self.retries)
            self._submit(i, k, run_count)

    def _cancel(self) -> None:
        self.cancelled = True
        self.reporter.trace("cancel_requested")
        self.ready.clear()
        self.retries.clear()
        # Work still queued in the executor (a pool's backlog, a mapped task's many
        # children) does not start; work already running finishes, so its states are
        # not lost. A call stopped before it started keeps no state, like a task that
        # was never submitted.
        if not self.inline:
            self.executor.cancel_queued(list(self.futures))
        while self.inflight and not self.inline:
            i, k, run_count, fut = self.done_q.get()
            self.inflight -= 1
            self.futures.discard(fut)
            if fut.cancelled():
                continue
            self._complete(i, k, self._outcome(i, k, fut, run_count), run_count)

    # --- starting work ------------------------------------------------------------
    def _start(self, i: int, k: int | None) -> None:
        """A unit whose gate opened: a Parameter, a given state, a mapped parent or a run."""
        plan = self.plan
        if k is None:
            if i in self.given_states:
                given = self.given_states[i]
                if plan.mapped[i] and type(given) is Mapped:
                    # Children from an earlier run: expand to run those it left, if any.
                    self._expand(i, given)
                    return
                self._complete(i, None, given, 1)
                return
            if plan.is_parameter[i]:
                t = plan.tasks[i]
                assert isinstance(t, Parameter)
                state = parameter_state(t, self.flow_ctx.parameters)
                self.reporter.task_run_state(plan.slugs[i], None, state)
                self._complete(i, None, state, 1)
                return
            if plan.mapped[i]:
                self._expand(i)
                return
        self._submit(i, k, 1)

    def _submit(self, i: int, k: int | None, run_count: int) -> None:
        runner = self.runners[i]
        assert runner is not None
        self.reporter.trace("task_submitted", runner.slug, k)
        ex = self.executor
        options = self.options[i]
        if ex.shares_memory:
            # The common case (default trigger, every upstream a plain Success) hands the
            # runner its inputs, gathered here in the one pass that reads upstream states.
            inputs = self._plain_inputs(i, runner) if k is None else None
            upstream = _NO_UPSTREAM if inputs is not None else self.upstream_states(i, k)
            fut = ex.submit(
                runner._run,
                upstream,
                run_count,
                k,
                self.flow_ctx,
                None,
                inputs,
                timeout=runner.timeout,
                **options,
            )
        else:
            upstream = self.upstream_states(i, k)
            from weir.engine.remote import run_remote

            fut = ex.submit(
                run_remote,
                runner,
                upstream,
                run_count,
                k,
                self.flow_ctx,
                self.remote_slots if runner.tags else None,
                timeout=runner.timeout,
                **options,
            )
        if self.inline:
            self._complete(i, k, self._outcome(i, k, fut, run_count), run_count)
            return
        self.inflight += 1
        self.futures.add(fut)
        q = self.done_q
        fut.add_done_callback(lambda f: q.put((i, k, run_count, f)))

    def _plain_inputs(self, i: int, runner: TaskRunner) -> dict[str, Any] | None:
        """A task's inputs when its trigger is the default and every upstream succeeded.

        The same rule as ``TaskRunner._plain_inputs``, read straight from the run's
        state list: sharing that method through a generator of (edge, state) pairs
        cost about 1 µs per task on a chain (bench/engine_bench.py), so it stays inline.
        """
        incoming = self.plan.up[i]
        if not incoming or runner.trigger is not all_successful:
            return None
        states = self.states
        inputs = dict(runner.constants) if runner.constants else {}
        for e, j, _ in incoming:
            s = states[j]
            if type(s) is not Success:
                return None
            key = e.key
            if key is not None:
                inputs[key] = s.result
        return inputs

    def _submit_children(self, i: int, ks: list[int]) -> None:
        """Send many children of a mapped task in one batch (executors with submit_many)."""
        from weir.engine.remote import run_remote

        runner = self.runners[i]
        assert runner is not None and self.submit_many is not None
        slots = self.remote_slots if runner.tags else None
        calls = []
        for k in ks:
            self.reporter.trace("task_submitted", runner.slug, k)
            calls.append(
                (run_remote, (runner, self.upstream_states(i, k), 1, k, self.flow_ctx, slots), {})
            )
        futures = self.submit_many(calls, **self.options[i])
        q = self.done_q
        self.inflight += len(futures)
        self.futures.update(futures)
        for k, fut in zip(ks, futures, strict=True):
            fut.add_done_callback(lambda f, k=k: q.put((i, k, 1, f)))

    def _outcome(self, i: int, k: int | None, fut: Any, run_count: int = 1) -> State:
        """The state a future carries, or a Failed/TimedOut state for executor errors."""
        try:
            out = fut.result()
        except TaskTimeoutError as exc:
            self._give_back_slots(i, k)
            state: State = TimedOut(f"Task timed out and was stopped: {exc}", result=exc)
            runner = self.runners[i]
            if runner is not None:
                # The executor stopped the task (it killed the worker), so the TaskRunner
                # never saw the timeout: apply the task's retries here.
                state = runner.check_for_retry(state, run_count, k, self.reporter)
            self._report(i, k, state)
            return state
        except Exception as exc:
            self._give_back_slots(i, k)
            logger.error(
                "Task '%s': the executor could not run it: %r",
                self.plan.tasks[i].name,
                exc,
                exc_info=exc,
            )
            state = Failed(f"The executor could not run the task: {exc!r}", result=exc)
            self._report(i, k, state)
            return state
        if isinstance(out, State):
            return out
        from weir.engine.remote import replay

        return replay(out, self.reporter)

    def _give_back_slots(self, i: int, k: int | None) -> None:
        """Release the slots of a task run its executor lost.

        A worker killed for its timeout, or one that died, never reached the
        TaskRunner's own release; until the flow run ends, its slots would keep the
        run's next tagged tasks (and everyone else's) waiting.
        """
        runner = self.runners[i]
        slots = self.remote_slots
        if slots is None or runner is None or not runner.tags:
            return
        try:
            slots.release_slots(slot_key(self.flow_ctx.flow_run_id, runner.slug, k))
        except Exception as exc:  # noqa: BLE001 - the run's end frees them anyway
            logger.warning(
                "Task '%s': could not give back its concurrency slots: %s", runner.task.name, exc
            )

    def _report(self, i: int, k: int | None, state: State) -> None:
        """A final state the runner decided itself (a mapped parent, an executor error)."""
        slug = self.plan.slugs[i]
        self.reporter.task_run_state(slug, k, state)
        if state.is_finished():
            self.reporter.trace("task_finished", slug, k, {"state": state.name})

    def upstream_states(self, i: int, k: int | None) -> dict[Any, State]:
        """The states a unit's trigger sees, by edge (a child sees its own items)."""
        incoming = self.plan.up[i]
        if not incoming:
            return {}
        states = self.states
        if k is None:
            return {e: states[j] for e, j, _ in incoming}  # type: ignore[misc]
        out: dict[Any, State] = {}
        for e, j, pipelined in incoming:
            up = states[j]
            if not e.mapped:
                out[e] = up  # type: ignore[assignment]
            elif pipelined:
                # Child k of a mapped upstream feeds child k here, with its own state.
                if up is None:
                    out[e] = self.child_states[j][k]  # type: ignore[assignment]
                else:
                    assert isinstance(up, Mapped)
                    out[e] = up.map_states[k]
            else:
                assert up is not None
                out[e] = Success(up.message, result=self._items(e, up)[k])
        return out

    @staticmethod
    def _items(e: Any, up: State) -> Any:
        result = up.result
        if e.flattened:
            return [x for sub in result for x in sub]
        return result

    # --- mapping ------------------------------------------------------------------
    def _expand(self, i: int, given: Mapped | None = None) -> None:
        """Fan a mapped task out into one child per item (or end it without children).

        ``given``: the task's state from an earlier run. When it lists one finished
        child per item, it is the task's state and nothing expands; otherwise its
        finished children are kept and do not run again (see :meth:`_keep_children`).
        """
        plan = self.plan
        runner = self.runners[i]
        assert runner is not None
        parent_view: dict[Any, State] = {}
        lengths: list[int] = []
        for e, j, _ in plan.up[i]:
            s = self.states[j]
            if s is None:  # a pipelined upstream that has expanded but not finished
                lengths.append(self.n_children[j])
                continue
            parent_view[e] = s
            if e.mapped:
                problem = self._mappable_problem(i, e, j, s)
                if problem is not None:
                    self._complete(i, None, problem, 1)
                    return
                lengths.append(len(self._items(e, s)))
        problem = self._parent_check(runner, parent_view)
        if problem is not None:
            self._complete(i, None, problem, 1)
            return
        n = min(lengths) if lengths else 0
        if given is not None and _whole(given, n):
            if given.result is None:
                # As in Prefect 1, a Mapped state's result is its children's results.
                given.result = [c.result for c in given.map_states]
            self._complete(i, None, given, 1)
            return
        self.n_children[i] = n
        self.child_states[i] = [None] * n
        self.children_left[i] = n
        wait = [0] * n
        for e, j, _ in plan.up[i]:
            if self.states[j] is None and e.mapped:
                upstream_children = self.child_states[j]
                for k in range(n):
                    if upstream_children[k] is None:
                        wait[k] += 1
        self.child_wait[i] = wait
        data = {"children": n}
        if given is not None:
            data["kept"] = self._keep_children(i, given.map_states, wait)
        self.reporter.trace("task_mapped", plan.slugs[i], None, data)
        # Downstream mapped tasks fed child-by-child may expand now.
        for _e, d, pipelined in plan.down[i]:
            if pipelined:
                self._release(d)
        if self.children_left[i] == 0:
            self._finish_mapped(i)
            return
        ready_now = [k for k in range(n) if wait[k] == 0]
        if self.submit_many is not None and len(ready_now) > 1 and runner.timeout is None:
            self._submit_children(i, ready_now)
            return
        for k in ready_now:
            self.ready.append((i, k))

    def _keep_children(self, i: int, prior: list[State], wait: list[int]) -> int:
        """Take an earlier run's finished children as this run's; return how many.

        Child ``k`` of the earlier run is child ``k`` here: a list no longer than this
        run's items is the front of them (the run stopped before it reached the rest),
        so the missing and unfinished children run. A longer list means the items
        changed since, so index ``k`` may name another item: nothing is kept.
        """
        n = self.n_children[i]
        if len(prior) > n:
            logger.info(
                "Task '%s': %d children were given but it maps over %d items now; "
                "every child runs.",
                self.plan.tasks[i].name,
                len(prior),
                n,
            )
            return 0
        children = self.child_states[i]
        kept = 0
        for k, s in enumerate(prior):
            if s is not None and s.is_finished():
                children[k] = s
                # Below zero, so the upstream children finishing never start it.
                wait[k] = -1
                kept += 1
        self.children_left[i] -= kept
        return kept

    def _mappable_problem(self, i: int, e: Any, j: int, s: State) -> State | None:
        t = self.plan.tasks[i]
        up_name = self.plan.tasks[j].name
        if type(s) is Skipped and t.skip_on_upstream_skip:
            return Skipped(f"Upstream task '{up_name}' that this task maps over was skipped.")
        if not s.is_successful():
            return TriggerFailed(
                f"Upstream task '{up_name}' that this task maps over did not succeed "
                f"({s.name}), so there is nothing to map over."
            )
        try:
            len(self._items(e, s))
        except TypeError:
            return Failed(
                f"Task '{t.name}' cannot map over argument {e.key!r}: the result of "
                f"'{up_name}' is a {type(s.result).__name__}, which has no length. "
                "Return a list (or another sized iterable), or pass it with unmapped(...)."
            )
        return None

    def _parent_check(self, runner: TaskRunner, parent_view: dict[Any, State]) -> State | None:
        from weir.engine.signals import ENDRUN

        try:
            runner.check_upstream_skipped({e: s for e, s in parent_view.items() if not e.mapped})
        except ENDRUN as end:
            return end.state
        return None

    def _finish_mapped(self, i: int) -> None:
        children = self.child_states.pop(i)
        state = Mapped(
            f"Mapped {len(children)} children.",
            result=[c.result for c in children],  # type: ignore[union-attr]
            map_states=children,  # type: ignore[arg-type]
        )
        del self.child_wait[i], self.children_left[i]
        self._report(i, None, state)
        self._finished(i, state)

    # --- finishing work -------------------------------------------------------------
    def _complete(self, i: int, k: int | None, state: State, run_count: int) -> None:
        if isinstance(state, Paused):
            self.paused.add((i, k))
            if k is None:
                self.states[i] = None
            return
        if isinstance(state, Retrying):
            due = state.start_time or time.time()
            heapq.heappush(self.retries, (due, next(self._seq), i, k, state.run_count + 1))
            return
        if not state.is_finished():
            # e.g. a state handler returned Pending: treat it as not run.
            return
        if k is None:
            self._finished(i, state)
            return
        children = self.child_states[i]
        children[k] = state
        plan = self.plan
        for _e, d, pipelined in plan.down[i]:
            if pipelined and d in self.child_wait and k < self.n_children[d]:
                self.child_wait[d][k] -= 1
                if self.child_wait[d][k] == 0:
                    # Front of the queue: finish one item's chain before starting the next
                    # (depth-first), so finished items can be released early.
                    self.ready.appendleft((d, k))
        self.children_left[i] -= 1
        if self.children_left[i] == 0:
            self._finish_mapped(i)

    def _finished(self, i: int, state: State) -> None:
        self.states[i] = state
        expanded = i in self.n_children
        for _e, d, pipelined in self.plan.down[i]:
            if pipelined and expanded:
                continue  # released when this task expanded
            self._release(d)

    def _release(self, d: int) -> None:
        self.gate[d] -= 1
        if self.gate[d] == 0:
            self.ready.append((d, None))

    def pending_state(self, i: int) -> State:
        if any(pi == i for pi, _ in self.paused):
            return Paused("Waiting for manual approval.")
        return Pending("Task did not run.")


_NO_UPSTREAM: dict[Any, State] = {}


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
    if flow.schedule is not None and run_on_schedule is not False:
        return _run_on_schedule(flow, runner_kwargs, kwargs)
    return FlowRunner(flow, **runner_kwargs).run(**kwargs)


def _run_on_schedule(flow: Flow, runner_kwargs: dict[str, Any], kwargs: dict[str, Any]) -> State:
    """Run at each of the schedule's times, forever (Prefect 1's local scheduling)."""
    state: State = Pending()
    while True:
        events = flow.schedule.next(1, return_events=True)
        if not events:
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
            **(getattr(event, "parameter_defaults", None) or {}),
            **(kwargs.get("parameters") or {}),
        }
        state = FlowRunner(flow, **runner_kwargs).run(
            **{**kwargs, "parameters": params, "scheduled_start_time": start}
        )
