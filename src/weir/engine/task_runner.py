"""The TaskRunner: one task run, as a pipeline of small steps.

``TaskRunner.run_in_flow`` (what the FlowRunner submits; ``run`` is the
Prefect-1-shaped entry point around it) takes these steps, one a line::

    plain_inputs_or_check_upstream   check_upstream_finished → check_upstream_skipped
                                     → check_trigger → get_inputs; all four folded into
                                     one pass when every upstream is a plain Success
    check_cached                     (tasks with cache_for)
    check_target                     (tasks with a target)
    wait_for_slots                   (tagged tasks, where the reporter has slots)
    set_task_to_running
    run_task                         the call itself: timeout, signals, LOOP
    checkpoint_result                (results that persist)
    cache_result                     (tasks with cache_for)
    check_for_retry

Each step either returns (the run goes on) or raises ``ENDRUN(state)`` with the
final state. Every state change goes through ``_transition``, which calls the
state handlers and tells the Reporter; a state is not changed once reported.
Everything static (trigger, handlers, timeout, the function to call) is resolved
once in ``__init__``; ``run_in_flow`` is the hot path of the whole engine, so a
step that does not apply is not even called.
"""

from __future__ import annotations

import inspect
import io
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from weir.context import FlowContext, TaskContext, user_values
from weir.context import context as _context
from weir.context import current as _current
from weir.core.task import Parameter, Task
from weir.engine import checkpoint as checkpoint_mod
from weir.engine import signals, stdout_capture, triggers
from weir.engine.cache import CACHE, store_for
from weir.engine.flattening import flatten_once
from weir.engine.reporter import NullReporter, Reporter, SlotProvider
from weir.engine.state import (
    Cached,
    Failed,
    Looped,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from weir.exceptions import ResultError, SerializationError
from weir.executors.base import TaskTimeoutError

#: Prefect 1's ``prefect.TaskRunner``, named as weir's loggers are (``weir.…``).
logger = logging.getLogger("weir.TaskRunner")


def _resumes(state: State) -> bool:
    """Whether a run starting from ``state`` is approved (Prefect 1): a ``Resume``, or a
    ``Paused`` whose ``start_time`` has passed."""
    if isinstance(state, Resume):
        return True
    if not isinstance(state, Paused):
        return False
    start = state.start_ts
    return start is not None and start <= time.time()


def slot_key(flow_run_id: str | None, slug: str, map_index: int | None) -> str:
    """The key a task run's concurrency slots are held under on the server."""
    return f"{flow_run_id}/{slug}/{-1 if map_index is None else map_index}"


class TaskRunner:
    """Runs one task: checks, the call itself, and the state that comes out."""

    def __init__(
        self,
        task: Task,
        state_handlers: list[Callable[..., Any]] | None = None,
        reporter: Reporter | None = None,
        slug: str | None = None,
        constants: Mapping[str, Any] | None = None,
        result: Any = None,
        checkpoint: bool = False,
    ) -> None:
        self.task = task
        self.slug = slug or task.slug or task.name
        #: Used only by the public ``run()``; the FlowRunner's reporter travels in the
        #: flow context, so one TaskRunner serves every run of a flow.
        self.reporter = reporter
        # Read once here: a task's trigger is a property (the default resolved by name).
        self.trigger = task.trigger
        handlers = [*task.state_handlers, *(state_handlers or ())]
        if task.on_failure is not None:
            handlers.append(_on_failure_handler(task.on_failure))
        self.handlers = handlers
        self.constants = dict(constants or {})
        self.keys_from_upstream = True
        self.fn = task.run
        is_async = getattr(task, "is_async", None)
        self.is_async = inspect.iscoroutinefunction(task.run) if is_async is None else is_async
        self.timeout = task.timeout_s
        #: Whether results are cached for a while (``cache_for``).
        self.caches = task.cache_for_s is not None
        self.tags = frozenset(task.tags)
        self.checkpoint = task.checkpoint if task.checkpoint is not None else checkpoint
        #: Whether results are written (checkpoints and targets both need a Result).
        self.persists = bool(self.checkpoint) or task.target is not None
        chosen = task.result if task.result is not None else result
        #: Small results go inline when nobody chose where results live.
        self.inline_limit = 0
        if chosen is None and self.persists:
            chosen = checkpoint_mod.default_result()
            self.inline_limit = checkpoint_mod.INLINE_LIMIT
        self.result = chosen
        #: Prefect 1's ``task_run_name``: a format string or a callable, given the inputs,
        #: parameters and context values; None for most tasks, which pay one test for it.
        self.run_name = task.task_run_name
        #: Whether a step runs between the inputs and Running (a run name, the cache, a
        #: target): one test on the hot path for the many tasks that have none of them.
        self.prepares = self.run_name is not None or self.caches or task.target is not None

    def __repr__(self) -> str:
        return f"<TaskRunner: {self.task.name}>"

    # --- public, Prefect-1-shaped entry point ----------------------------------
    def run(
        self,
        state: State | None = None,
        upstream_states: Mapping[Any, State] | None = None,
        context: dict[str, Any] | None = None,
    ) -> State:
        """Run the task once with these upstream states; return its final state.

        As in Prefect 1, only a pending ``state`` runs (any other is returned as it
        is), and a ``Retrying`` one runs as its next attempt.
        """
        if state is not None and not state.is_pending():
            return state
        # As Prefect 1's, the values of the context it is called in, under the ones given.
        ctx = {**user_values(), **(context or {})}
        if isinstance(state, Retrying):
            ctx.setdefault("task_run_count", state.run_count + 1)
        flow_ctx = FlowContext(
            flow_name=ctx.pop("flow_name", None),
            flow_run_id=ctx.pop("flow_run_id", None),
            parameters=ctx.pop("parameters", None),
            scheduled_start_time=ctx.pop("scheduled_start_time", None),
            extra=ctx,
        )
        flow_ctx.reporter = self.reporter
        flow_ctx.log_task_runs = logger.isEnabledFor(logging.DEBUG)
        run_count = int(ctx.pop("task_run_count", 1))
        map_index = ctx.pop("map_index", None)
        return self.run_in_flow(flow_ctx, upstream_states or {}, run_count, map_index, state=state)

    # --- the pipeline ------------------------------------------------------------
    def run_in_flow(
        self,
        flow_ctx: FlowContext,
        upstream_states: Mapping[Any, State],
        run_count: int = 1,
        map_index: int | None = None,
        plain_inputs: dict[str, Any] | None = None,
        state: State | None = None,
    ) -> State:
        """One task run of a flow run, reported to ``flow_ctx.reporter``: what the
        FlowRunner submits for each unit (and ``run_remote`` calls in a worker).

        ``plain_inputs``: the inputs, when the caller gathered them itself and found
        every upstream a plain Success under the default trigger, so the upstream
        checks are known to pass (see :meth:`plain_inputs_or_check_upstream`).
        ``state``: the state to start from (Pending when None; a retry's Retrying).
        """
        reporter = flow_ctx.reporter or _NULL_REPORTER
        task_ctx = TaskContext(
            flow_ctx, self.task.name, self.slug, run_count, map_index, task_tags=self.tags
        )
        token = _current.set(task_ctx)
        if state is None:
            state = _PENDING
        elif _resumes(state):
            task_ctx.extra = {"resume": True}
        elif isinstance(state, Retrying):
            _resume_loop(task_ctx, state)
        log = flow_ctx.log_task_runs
        try:
            if log:
                logger.debug("Task '%s': Starting task run...", _full_name(task_ctx))
            try:
                inputs = self.plain_inputs_or_check_upstream(upstream_states, plain_inputs)
                if self.prepares:
                    if self.run_name is not None:
                        self.set_task_run_name(task_ctx, inputs, map_index, reporter)
                    if self.caches:
                        self.check_cached(inputs, flow_ctx)
                    if self.task.target is not None:
                        self.check_target(inputs)
                slot_key = self.wait_for_slots(reporter, flow_ctx, map_index) if self.tags else None
                state = self.set_task_to_running(state, map_index, reporter, slot_key)
                new = self.run_task(inputs, map_index, state, reporter, slot_key)
                if self.persists and type(new) is Success:
                    new = self._checkpointed(new, inputs, task_ctx)
                if self.caches and type(new) is Success:
                    new = self.cache_result(new, inputs, flow_ctx)
                # The run count of the last call: a loop's calls count from 1 again.
                run_count = task_ctx.task_run_count
                if self.handlers and self._will_retry(new, run_count):
                    # As in Prefect 1: the attempt is Failed to the handlers before it is
                    # Retrying (on_failure hears each failed attempt), and a handler that
                    # makes it anything but Failed stops the retry.
                    handled = self._handled(state, new)
                    if not handled.is_failed():
                        reporter.task_run_state(self.slug, map_index, handled)
                    state = new = handled  # the Retrying below moves on from it
                new = self.check_for_retry(new, run_count, map_index, reporter)
            except signals.ENDRUN as end:
                new = end.state
                if type(end) is _EndReported:
                    state = new
            except signals.WeirStateSignal as sig:
                # Raised by the user's code around the run itself (a task_run_name
                # callable, a Result's write): the state it carries, as from the task.
                new = sig.state
            # A state already reported (one a handler put in Running's place) is not
            # reported twice.
            final = new if new is state else self._transition(state, new, map_index, reporter)
            if final.is_finished():
                reporter.trace("task_finished", self.slug, map_index, _finished_data(final))
            if log:
                logger.debug(
                    "Task '%s': Finished task run for task with final state: '%s'",
                    _full_name(task_ctx),
                    final.name,
                )
            return final
        finally:
            _current.reset(token)

    def _full_name(self) -> str:
        """The running task's full name (``name[k]``), for a log line off the hot path."""
        ctx = _current.get()
        return _full_name(ctx) if isinstance(ctx, TaskContext) else self.task.name

    def set_task_run_name(
        self,
        ctx: TaskContext,
        inputs: Mapping[str, Any],
        map_index: int | None,
        reporter: Reporter,
    ) -> None:
        """Name this task run from ``task_run_name`` (``context.task_run_name``), and
        report the name (a server shows it with the task run).

        As in Prefect 1, a format string or a callable gets the flow's parameters, the
        context's values and the task's inputs (later ones winning); a mapped child's
        inputs are its own items. A name that cannot be made fails the task run.
        """
        template = self.run_name
        values = {**ctx.flow.parameters, **_context.to_dict(), **inputs}
        try:
            name = template(**values) if callable(template) else str(template).format(**values)
        except Exception as exc:  # noqa: BLE001 - the user's callable or template, any error
            shown = getattr(template, "__name__", None) or repr(template)
            message = (
                f"Task '{_full_name(ctx)}': its task_run_name {shown} could not be made: "
                f"{exc!r}. It is given the task's inputs, the flow's parameters and the "
                f"context's values ({', '.join(sorted(inputs)) or 'no inputs'} here)."
            )
            logger.error(message)
            raise signals.ENDRUN(Failed(message, result=exc)) from None
        if ctx.extra is None:
            ctx.extra = {}
        ctx.extra["task_run_name"] = name
        reporter.task_run_name(self.slug, map_index, name)

    def plain_inputs_or_check_upstream(
        self, upstream_states: Mapping[Any, State], plain_inputs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The task's inputs, after the upstream checks that can end the run here:
        ``check_upstream_finished``, ``check_upstream_skipped`` and ``check_trigger``.

        Plain successes pass every one of them under the default trigger, so when every
        upstream state is a plain ``Success`` (or the caller found so: ``plain_inputs``)
        the three checks are skipped and the inputs gathered in one pass.
        """
        if plain_inputs is not None:
            return plain_inputs
        if not upstream_states:
            if self.trigger is not triggers.all_successful:
                self.check_trigger(upstream_states)  # e.g. manual_only pauses a root
            return self.constants
        if self.trigger is triggers.all_successful:
            inputs = self._plain_inputs(upstream_states)
            if inputs is not None:
                return inputs
        self.check_upstream_finished(upstream_states)
        self.check_upstream_skipped(upstream_states)
        self.check_trigger(upstream_states)
        return self.get_inputs(upstream_states)

    def set_task_to_running(
        self, state: State, map_index: int | None, reporter: Reporter, slot_key: str | None
    ) -> State:
        """Move to Running; a state handler that replaces it (or raises) ends the run."""
        running = self._transition(state, Running(), map_index, reporter)
        if not running.is_running():
            if slot_key is not None:
                _release_slots(reporter, slot_key)
            raise _EndReported(running)
        reporter.trace("task_started", self.slug, map_index)
        return running

    def _transition(
        self, old: State, new: State, map_index: int | None, reporter: Reporter
    ) -> State:
        if self.handlers:
            new = self._handled(old, new)
        reporter.task_run_state(self.slug, map_index, new)
        return new

    def _handled(self, old: State, new: State) -> State:
        """``new``, or what the task's state handlers make of the move to it."""
        if self.handlers:
            try:
                for handler in self.handlers:
                    replaced = handler(self.task, old, new)
                    if replaced is not None:
                        new = replaced
            except signals.WeirStateSignal as sig:
                # As in Prefect 1: a signal raised by a handler is the state it carries
                # (SKIP on Running ends the run Skipped, FAIL ends it Failed).
                new = sig.state
            except Exception as exc:
                # As in Prefect 1: a broken handler fails the task, and says so.
                logger.exception(
                    "Task '%s': a state handler raised an error on %s -> %s.",
                    self.task.name,
                    old.name,
                    new.name,
                )
                new = Failed(f"Exception raised while calling state handlers: {exc!r}", result=exc)
        return new

    def wait_for_slots(
        self, reporter: Reporter, flow_ctx: FlowContext, map_index: int | None
    ) -> str | None:
        """Hold a slot of every tag's concurrency limit before running (server runs only);
        the key the slots are held under, or None when the reporter has no slots."""
        slots = reporter.slots
        if slots is None:
            return None
        key = slot_key(flow_ctx.flow_run_id, self.slug, map_index)
        tags = sorted(self.tags)
        delay = 0.05
        waited = False
        while not slots.acquire_slots(tags, key):
            if not waited:
                reporter.trace("task_waiting_for_slot", self.slug, map_index, {"tags": tags})
                waited = True
            if reporter.cancel_requested():
                raise signals.ENDRUN(Pending("Cancelled while waiting for a concurrency slot."))
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        return key

    def check_upstream_finished(self, upstream_states: Mapping[Any, State]) -> None:
        for s in upstream_states.values():
            if not s.is_finished():
                raise signals.ENDRUN(Pending("Upstream tasks have not all finished."))

    def check_upstream_skipped(self, upstream_states: Mapping[Any, State]) -> None:
        if not self.task.skip_on_upstream_skip:
            return
        for s in upstream_states.values():
            # A reducing task sees a Mapped upstream whole; a skipped child skips it too,
            # as in Prefect 1 (filter such results with skip_on_upstream_skip=False).
            if type(s) is Skipped or (
                type(s) is Mapped and any(type(c) is Skipped for c in s.map_states)
            ):
                raise signals.ENDRUN(
                    Skipped(
                        "Upstream task was skipped; if this was not the intended behavior, "
                        "set skip_on_upstream_skip=False for this task."
                    )
                )

    def check_trigger(self, upstream_states: Mapping[Any, State]) -> None:
        states = _expand_mapped(upstream_states)
        try:
            passed = self.trigger(states)
        except signals.WeirStateSignal as sig:
            raise signals.ENDRUN(sig.state) from None
        except Exception as exc:
            logger.exception("Task '%s': its trigger raised an error.", self.task.name)
            raise signals.ENDRUN(
                TriggerFailed(f"Unexpected error while checking the trigger: {exc!r}", result=exc)
            ) from None
        if not passed:
            raise signals.ENDRUN(TriggerFailed("Trigger was not met."))

    def _plain_inputs(self, upstream_states: Mapping[Any, State]) -> dict[str, Any] | None:
        """The inputs when every upstream state is a plain Success, else None."""
        inputs = dict(self.constants) if self.constants else {}
        for edge, s in upstream_states.items():
            if type(s) is not Success:
                return None
            key = edge.key
            if key is not None:
                inputs[key] = (
                    flatten_once(s.result) if edge.flattened and not edge.mapped else s.result
                )
        return inputs

    def get_inputs(self, upstream_states: Mapping[Any, State]) -> dict[str, Any]:
        """The keyword arguments for ``run``: constants plus upstream results by key."""
        if not upstream_states:
            return self.constants
        inputs = dict(self.constants)
        for edge, s in upstream_states.items():
            key = edge.key
            if key is not None:
                # A flattened edge into a plain call: the list flattened (a mapped
                # child's state is already its own item).
                flat = edge.flattened and not edge.mapped
                inputs[key] = flatten_once(s.result) if flat else s.result
        return inputs

    def check_cached(self, inputs: dict[str, Any], flow_ctx: FlowContext) -> None:
        validator = self.task.cache_validator
        key = self._cache_key(flow_ctx)
        given = store_for(flow_ctx.extra.get("caches"))
        candidates = (given or CACHE).candidates(key)
        if self.persists and given is None:
            candidates += checkpoint_mod.load_cached(key)  # entries from other processes
        for candidate in candidates:
            if validator(candidate, inputs, flow_ctx.parameters):
                value = candidate.result
                if value is None and candidate.location is not None and self.result is not None:
                    value = self.result.read(candidate.location).value
                raise signals.ENDRUN(
                    Cached(
                        "Task was cached by a previous run.",
                        result=value,
                        cached_inputs=candidate.cached_inputs,
                        cached_parameters=candidate.cached_parameters,
                        cached_result_expiration=candidate.cached_result_expiration,
                        location=candidate.location,
                    )
                )

    def _cache_key(self, flow_ctx: FlowContext) -> str:
        if self.task.cache_key:
            return self.task.cache_key  # shared on purpose, by the user
        # Each mapped child caches its own result; one key would hand all of them
        # the first child's result.
        ctx = _current.get()
        map_index = ctx.map_index if isinstance(ctx, TaskContext) else None
        suffix = "" if map_index is None else f"[{map_index}]"
        return f"{flow_ctx.flow_name}/{self.slug}{suffix}"

    def cache_result(self, state: State, inputs: dict[str, Any], flow_ctx: FlowContext) -> State:
        assert self.task.cache_for_s is not None
        cached = Cached(
            state.message,
            result=state.result,
            cached_inputs=dict(inputs),
            cached_parameters=dict(flow_ctx.parameters),
            cached_result_expiration=time.time() + self.task.cache_for_s,
            location=state.location,
        )
        key = self._cache_key(flow_ctx)
        (store_for(flow_ctx.extra.get("caches")) or CACHE).add(key, cached)
        if cached.location is not None:
            checkpoint_mod.persist_cached(key, cached)
        return cached

    def check_target(self, inputs: Mapping[str, Any] | None = None) -> None:
        """Skip the run when a result already exists at the task's target (a template
        given the task's ``inputs`` and the context, as in Prefect 1)."""
        ctx = _current.get()
        assert isinstance(ctx, TaskContext)
        found = checkpoint_mod.read_target(self.result, self.task.target, ctx, inputs)
        if found is not None:
            raise signals.ENDRUN(found)

    def _checkpointed(self, state: State, inputs: Mapping[str, Any], ctx: TaskContext) -> State:
        """``checkpoint_result``; a result that cannot be serialized or written fails the
        task saying so (the task did run), not as an error of the executor."""
        try:
            return self.checkpoint_result(state, inputs)
        except (SerializationError, ResultError) as exc:
            message = (
                f"Task '{_full_name(ctx)}' ran, but its result could not be checkpointed: {exc}"
            )
            logger.error(message)
            return Failed(message, result=exc)

    def checkpoint_result(self, state: State, inputs: Mapping[str, Any] | None = None) -> State:
        """Write a successful result (to the target when there is one); keep its location.

        The state is not reported yet, so it takes the location itself."""
        ctx = _current.get()
        assert isinstance(ctx, TaskContext)
        state.location = checkpoint_mod.write(
            self.result,
            state.result,
            ctx,
            self.task.target,
            ctx.flow.result_writer,
            self.inline_limit,
            inputs,
        )
        return state

    def run_task(
        self,
        inputs: dict[str, Any],
        map_index: int | None,
        running: State,
        reporter: Reporter,
        slot_key: str | None = None,
    ) -> State:
        """Call the task (again while it raises LOOP); turn the outcome into a state.

        ``slot_key``: the concurrency slots the run holds, given back however it ends.
        """
        try:
            while True:
                try:
                    value = self._call(inputs)
                except signals.LOOP as sig:
                    running = self._loop(sig, running, map_index, reporter)
                    continue
                except signals.WeirStateSignal as sig:
                    if sig.state.is_failed():
                        # The task's own words on why it failed belong in the run's logs.
                        logger.error(
                            "Task '%s': %s signal raised: %s",
                            self._full_name(),
                            type(sig).__name__,
                            sig.state.message,
                        )
                    return sig.state
                except signals.ENDRUN:
                    raise  # the task chose its final state: no retry, no caching
                except TaskTimeoutError as exc:
                    return TimedOut(f"Task timed out during execution: {exc}", result=exc)
                except Exception as exc:
                    logger.error(
                        "Task '%s': Exception encountered during task execution: %r",
                        self._full_name(),
                        exc,
                        exc_info=True,
                    )
                    if _context.get("raise_on_exception"):
                        raise  # Prefect 1's debugging switch: the error leaves flow.run()
                    return Failed(f"Error during execution of task: {exc!r}", result=exc)
                return Success("Task run succeeded.", result=value)
        finally:
            if slot_key is not None:
                _release_slots(reporter, slot_key)

    def _loop(
        self, sig: signals.LOOP, running: State, map_index: int | None, reporter: Reporter
    ) -> State:
        """The task raised LOOP: report Looped, then Running for the next call, which sees
        ``task_loop_count`` + 1 and the loop's result.

        As in Prefect 1, each call of a loop is a run of its own: the state handlers see
        Running → Looped → Running …, and the next call's ``task_run_count`` is 1 again
        (so retries count the failures of one call, whatever loop it is on)."""
        ctx = _current.get()
        assert isinstance(ctx, TaskContext)
        loop_count = ctx.task_loop_count or _context.get("task_loop_count", 1)
        looped = sig.state
        assert isinstance(looped, Looped)
        looped.loop_count = loop_count
        if not looped.message:
            looped.message = f"Task is looping ({loop_count})"
        looped = self._transition(running, looped, map_index, reporter)
        if not looped.is_looped():
            raise _EndReported(looped)  # a handler ended the loop (e.g. raised FAIL)
        reporter.trace("task_looped", self.slug, map_index, {"loop": loop_count})
        ctx.task_loop_count = loop_count + 1
        ctx.task_loop_result = looped.result
        ctx.task_run_count = 1
        running = self._transition(
            looped, Running(f"Looping task (on loop index {loop_count})"), map_index, reporter
        )
        if not running.is_running():
            raise _EndReported(running)  # a handler kept the next call from starting
        return running

    def _call(self, inputs: dict[str, Any]) -> Any:
        if self.task.log_stdout:
            with stdout_capture.captured(_LogWriter(self.task.name)):
                return self._call_plain(inputs)
        return self._call_plain(inputs)

    def _call_plain(self, inputs: dict[str, Any]) -> Any:
        if self.is_async:
            from weir.engine.timeouts import run_coroutine

            return run_coroutine(self.fn(**inputs), self.timeout)
        if self.timeout is not None:
            from weir.engine.timeouts import call_with_timeout

            return call_with_timeout(self.fn, inputs, self.timeout)
        return self.fn(**inputs)

    def check_for_retry(
        self,
        state: State,
        run_count: int,
        map_index: int | None = None,
        reporter: Reporter | None = None,
    ) -> State:
        reporter = reporter or _NULL_REPORTER
        task = self.task
        if isinstance(state, Retrying):
            # RETRY raised by the task: retry whatever max_retries says.
            if state.start_ts is None:
                state.start_ts = time.time()
            state.run_count = run_count
            reporter.trace(
                "task_retry_scheduled",
                self.slug,
                map_index,
                {"start_time": state.start_ts, "run_count": run_count},
            )
            return state
        if self._will_retry(state, run_count):
            delay = task.retry_delay_s or 0.0
            retry = Retrying(
                f"Retrying task (after attempt {run_count} of {task.max_retries + 1}): "
                f"{state.message}",
                result=state.result,
                start_time=time.time() + delay,
                run_count=run_count,
            )
            ctx = _current.get()
            if isinstance(ctx, TaskContext) and ctx.task_loop_count is not None:
                # As in Prefect 1, a looping task retries the loop it failed on, with the
                # result the loop had reached (see _resume_loop).
                retry.context["_loop_count"] = ctx.task_loop_count
                retry.result = ctx.task_loop_result
            reporter.trace(
                "task_retry_scheduled",
                self.slug,
                map_index,
                {"start_time": retry.start_ts, "run_count": run_count},
            )
            return retry
        return state

    def _will_retry(self, state: State, run_count: int) -> bool:
        """Whether ``state``, the end of attempt ``run_count``, is retried."""
        return (
            # Any Failed the task's run ended in, as in Prefect 1: a TRIGGERFAIL raised by
            # the task too (a trigger that fails before the run ends it with ENDRUN).
            isinstance(state, Failed)
            and run_count <= self.task.max_retries
            and self._retry_wanted(state)
        )

    def _retry_wanted(self, failed: State) -> bool:
        """Prefect 1's ``retry_on``: with it set, only a failure whose exception is one of
        those types is retried (a failure without an exception still is)."""
        kinds = getattr(self.task, "retry_on_types", None)  # absent from older pickles
        error = failed.result
        if kinds is None or error is None or isinstance(error, kinds):
            return True
        logger.info(
            "Task '%s': not retried: %s is not one of its retry_on types (%s).",
            self.task.name,
            type(error).__name__,
            ", ".join(sorted(k.__name__ for k in kinds)),
        )
        return False


_NULL_REPORTER = NullReporter()


def _release_slots(reporter: Reporter, key: str) -> None:
    slots: SlotProvider | None = reporter.slots
    assert slots is not None  # the key came from wait_for_slots, through these slots
    slots.release_slots(key)


class _EndReported(signals.ENDRUN):
    """Ends the run with a state the reporter has already been told."""


#: One read-only ``{"state": name}`` per state class, shared by every task_finished
#: event: the trace is on the hot path, and a dict per task would double its memory.
_FINISHED_DATA: dict[type[State], dict[str, str]] = {}


def _finished_data(state: State) -> dict[str, str]:
    data = _FINISHED_DATA.get(type(state))
    if data is None:
        data = _FINISHED_DATA[type(state)] = {"state": state.name}
    return data


_PENDING = Pending()


def _full_name(ctx: Any) -> str:
    """Prefect 1's ``task_full_name``: the task's name, ``name[k]`` for mapped child k."""
    k = ctx.map_index
    return ctx.task_name if k is None else f"{ctx.task_name}[{k}]"


def _expand_mapped(upstream_states: Mapping[Any, State]) -> Mapping[Any, State]:
    """A mapped upstream counts through its children for triggers (a reduce task)."""
    for s in upstream_states.values():
        if type(s) is Mapped:
            break
    else:
        return upstream_states
    out: dict[Any, State] = {}
    for edge, s in upstream_states.items():
        if type(s) is Mapped:
            for i, child in enumerate(s.map_states):
                out[(edge, i)] = child
        else:
            out[edge] = s
    return out


def _resume_loop(ctx: TaskContext, retry: Retrying) -> None:
    """A retry of a looping task goes on from the loop it failed on (``check_for_retry``
    keeps it in the Retrying state, as Prefect 1 does)."""
    loop_count = retry.context.get("_loop_count")
    if loop_count is not None:
        ctx.task_loop_count = loop_count
        ctx.task_loop_result = retry.result


def _on_failure_handler(on_failure: Callable[..., Any]) -> Callable[..., Any]:
    def handler(task: Any, old: State, new: State) -> None:
        if new.is_failed():
            on_failure(task, new)

    return handler


class _LogWriter(io.TextIOBase):
    """A file-like object that turns printed lines into log records (``log_stdout``)."""

    def __init__(self, task_name: str) -> None:
        self._log = _context.get_logger("weir.task_run")
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            if line:
                self._log.info(line)
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            self._log.info(self._buffer)
            self._buffer = ""


def parameter_state(p: Parameter, parameters: Mapping[str, Any]) -> State:
    """The state of a Parameter task: its value, without running anything."""
    if p.name in parameters:
        return Success("Parameter value given.", result=parameters[p.name])
    return Success("Parameter default used.", result=p.default)
