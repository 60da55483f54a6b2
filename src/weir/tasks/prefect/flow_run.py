"""The flow-of-flows tasks (see ``weir.tasks.prefect``)."""

from __future__ import annotations

import datetime as _dt
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from weir.context import TaskContext, current, task_run_id_for
from weir.context import context as run_context
from weir.core.task import Task, task
from weir.engine import signals
from weir.engine.state import FINISHED_TYPES, StateType
from weir.utilities.tasks import defaults_from_attrs

__all__ = ["StartFlowRun", "create_flow_run", "get_task_run_result", "wait_for_flow_run"]

logger = logging.getLogger("weir.tasks.prefect")

#: How often a waiting task asks the server about the run it waits for (seconds).
POLL_SECONDS = 1.0
_FINISHED = FINISHED_TYPES


# --- creating ---------------------------------------------------------------------------
@task
def create_flow_run(
    flow_id: str | None = None,
    flow_name: str | None = None,
    project_name: str = "",
    parameters: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    labels: Iterable[str] | None = None,
    run_name: str | None = None,
    run_config: Any = None,
    scheduled_start_time: _dt.datetime | _dt.timedelta | None = None,
    idempotency_key: str | None = None,
) -> str:
    """Start a run of a registered flow; return its id.

    The flow is given by ``flow_id``, or by ``flow_name`` (and ``project_name`` when
    two projects hold that name). ``run_name`` defaults to ``<this run's name>-<flow>``;
    ``idempotency_key`` to this task run's id, so a retry finds the run it started.
    """
    if flow_id and flow_name:
        raise ValueError(
            "create_flow_run got both flow_id and flow_name; give one of them to say which "
            "flow to run."
        )
    if not flow_id and not flow_name:
        raise ValueError(
            "create_flow_run needs flow_name= (with project_name= if needed) or flow_id= "
            "to say which flow to run."
        )
    if run_config is not None:
        raise ValueError(
            "create_flow_run(run_config=...) is not supported: a run uses its flow's run "
            "config; give labels= to route it, or register the flow with another run config."
        )
    run_logger = run_context.get_logger("weir.tasks.prefect")
    if not run_name:
        current = run_context.get("flow_run_name")
        if current:
            run_name = f"{current}-{flow_name or 'child'}"
    if idempotency_key is None:
        idempotency_key = run_context.get("task_run_id")
    start = _timestamp(scheduled_start_time)
    with _client() as client:
        run = _create(
            client,
            flow_id=flow_id,
            flow_name=flow_name,
            project=project_name or None,
            parameters=parameters or {},
            labels=list(labels) if labels is not None else None,
            name=run_name,
            context=context,
            scheduled_start_time=start,
            idempotency_key=idempotency_key,
        )
    run_logger.info("Created flow run %r (%s) of flow %r.", run.name, run.id, run.flow_name)
    return str(run.id)


def _create(client: Any, **fields: Any) -> Any:
    """Create the run with this run as its parent, when the server knows this run."""
    from weir.exceptions import ClientError

    parent = run_context.get("flow_run_id")
    task_run = run_context.get("task_run_id")
    try:
        return client.create_flow_run(
            **fields, parent_flow_run_id=parent, parent_task_run_id=task_run
        )
    except ClientError as exc:
        # A local flow.run() starting runs on a server: the server does not know this
        # run, so the child is made without a parent.
        if "parent_flow_run_id" not in str(exc):
            raise
        return client.create_flow_run(**fields)


# --- waiting ----------------------------------------------------------------------------
@task
def wait_for_flow_run(
    flow_run_id: str,
    stream_states: bool = True,
    stream_logs: bool = False,
    raise_final_state: bool = False,
    max_duration: _dt.timedelta = _dt.timedelta(hours=12),
) -> Any:
    """Wait for the run ``flow_run_id`` to finish; return it (a ``weir.schemas`` FlowRun).

    ``stream_states`` logs each state it goes through, ``stream_logs`` its log lines
    (at their levels, named after the run). ``raise_final_state`` ends this task in
    the run's final state (a failed run fails it). Past ``max_duration`` this task
    fails, and the run goes on. Cancelling the run this task belongs to cancels the
    run it waits for.
    """
    run_logger = run_context.get_logger("weir.tasks.prefect")
    deadline = time.monotonic() + _seconds(max_duration)
    with _client() as client:
        final = None
        for run, logs in _watch(client, flow_run_id, stream_states, stream_logs, deadline):
            for line in logs:
                run_logger.log(line.level, "[%s] %s", run.name, line.message)
            final = run
        assert final is not None
    if raise_final_state:
        raise _signal_for(final)
    return final


def _watch(
    client: Any, run_id: str, stream_states: bool, stream_logs: bool, deadline: float
) -> Iterator[tuple[Any, list[Any]]]:
    """The run and its new log lines, every poll, until it finishes."""
    run_logger = run_context.get_logger("weir.tasks.prefect")
    cursor = 0
    seen_state = None
    while True:
        run = client.get_flow_run(run_id)
        logs: list[Any] = []
        if stream_logs:
            page = client.get_logs(run_id, after_id=cursor)
            logs, cursor = list(page.logs), page.next_after_id
        state = run.state
        if stream_states and (state.type, state.message) != seen_state:
            seen_state = (state.type, state.message)
            run_logger.info("Flow run %s: %s — %s", run.name, state.type.value, state.message)
        yield run, logs
        if state.type in _FINISHED:
            return
        if _own_run_cancelled():
            client.cancel_flow_run(run_id)
            raise signals.FAIL(
                f"This run was cancelled while it waited for flow run {run.name} ({run_id}); "
                "that run was cancelled too."
            )
        if time.monotonic() > deadline:
            raise signals.FAIL(
                f"Flow run {run.name} ({run_id}) did not finish within max_duration; it goes "
                "on, and this task stops waiting."
            )
        time.sleep(POLL_SECONDS)


def _signal_for(run: Any, result: Any = None) -> signals.WeirStateSignal:
    """The signal that ends a task in (a state like) the run's final state."""
    state = run.state
    message = f"Flow run {run.name} ended {state.type.value}: {state.message}"
    result = run if result is None else result
    if state.type == StateType.SKIPPED:
        return signals.SKIP(message, result=result)
    if state.type in (StateType.SUCCESS, StateType.CACHED, StateType.MAPPED):
        return signals.SUCCESS(message, result=result)
    return signals.FAIL(message, result=result)


def _own_run_cancelled() -> bool:
    ctx = current.get()
    flow = ctx.flow if isinstance(ctx, TaskContext) else ctx
    reporter = getattr(flow, "reporter", None)
    return reporter is not None and bool(reporter.cancel_requested())


# --- results ----------------------------------------------------------------------------
@task
def get_task_run_result(
    flow_run_id: str, task_slug: str, map_index: int = -1, poll_time: float = 5
) -> Any:
    """The result of task ``task_slug`` (child ``map_index`` of a mapped one) in another run.

    Waits for that run to finish. The result is read from where the run checkpointed
    it (runs under an agent checkpoint every result), so it must be readable from
    here. ``map_index=-1`` on a mapped task gives every child's result, in order.
    """
    if not task_slug:
        raise ValueError(
            "get_task_run_result needs task_slug= (the task's slug, such as 'load-1'; "
            "`weir flow-run show ID` lists them)."
        )
    if str(run_context.get("flow_run_id")) == str(flow_run_id):
        raise ValueError(
            "get_task_run_result was given this run's own id; it reads another run's "
            "results (it would wait for itself for ever)."
        )
    with _client() as client:
        run = client.get_flow_run(flow_run_id)
        while run.state.type not in _FINISHED:
            time.sleep(poll_time)
            run = client.get_flow_run(flow_run_id)
        return _read_result(client, flow_run_id, task_slug, map_index)


def _read_result(client: Any, flow_run_id: str, slug: str, map_index: int) -> Any:
    from weir.engine.results import Result
    from weir.exceptions import ObjectNotFound

    shown = slug if map_index < 0 else f"{slug}[{map_index}]"
    try:
        task_run = client.get_task_run(task_run_id_for(str(flow_run_id), slug, map_index))
    except ObjectNotFound:
        slugs = sorted({t.task_slug for t in client.list_task_runs(flow_run_id)})
        raise ValueError(
            f"Flow run {flow_run_id} has no task run {shown}; its tasks are: "
            f"{', '.join(slugs) or 'none'}."
        ) from None
    state = task_run.state
    if state.type == StateType.MAPPED and map_index < 0:
        children = [
            t
            for t in client.list_task_runs(flow_run_id)
            if t.task_slug == slug and t.map_index >= 0
        ]
        return [
            _read_result(client, flow_run_id, slug, t.map_index)
            for t in sorted(children, key=lambda t: t.map_index)
        ]
    location = state.model_dump().get("location")
    if not location:
        raise ValueError(
            f"Task run {shown} of flow run {flow_run_id} ended {state.type.value} with no "
            "result kept (checkpointing was off, or the task has checkpoint=False)."
        )
    return Result().read(location).value


# --- the older class ---------------------------------------------------------------------
class StartFlowRun(Task):
    """Start a run of a registered flow by name; with ``wait=True``, end in its final state.

    Prefect 1's ``StartFlowRun``: returns the new run's id, or with ``wait=True``
    waits for it and ends this task as that run ended (its id as the result).
    """

    def __init__(
        self,
        flow_name: str | None = None,
        project_name: str | None = None,
        parameters: dict[str, Any] | None = None,
        run_config: Any = None,
        wait: bool = False,
        new_flow_context: dict[str, Any] | None = None,
        run_name: str | None = None,
        scheduled_start_time: _dt.datetime | None = None,
        poll_interval: _dt.timedelta = _dt.timedelta(seconds=10),
        **kwargs: Any,
    ) -> None:
        self.flow_name = flow_name
        self.project_name = project_name
        self.parameters = parameters
        self.run_config = run_config
        self.wait = wait
        self.new_flow_context = new_flow_context
        self.run_name = run_name
        self.scheduled_start_time = scheduled_start_time
        self.poll_interval = poll_interval
        super().__init__(**kwargs)

    @defaults_from_attrs(
        "flow_name",
        "project_name",
        "parameters",
        "run_config",
        "new_flow_context",
        "run_name",
        "scheduled_start_time",
    )
    def run(  # type: ignore[override]
        self,
        flow_name: str | None = None,
        project_name: str | None = None,
        parameters: dict[str, Any] | None = None,
        run_config: Any = None,
        new_flow_context: dict[str, Any] | None = None,
        run_name: str | None = None,
        scheduled_start_time: _dt.datetime | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        if not flow_name:
            raise ValueError(f"StartFlowRun '{self.name}' needs flow_name=: the flow to run.")
        run_id = create_flow_run.run(
            flow_name=flow_name,
            project_name=project_name or "",
            parameters=parameters,
            context=new_flow_context,
            run_name=run_name,
            run_config=run_config,
            scheduled_start_time=scheduled_start_time,
            idempotency_key=idempotency_key,
        )
        if not self.wait:
            return run_id
        deadline = time.monotonic() + _seconds(_dt.timedelta(hours=12))
        with _client() as client:
            final = None
            for run, _ in _watch(client, run_id, True, False, deadline):
                final = run
        raise _signal_for(final, result=run_id)


# --- helpers ------------------------------------------------------------------------------
def _client() -> Any:
    import os

    from weir.client import Client

    if not os.environ.get("WEIR_API_URL"):
        from weir.client.settings import DEFAULT_API_URL

        logger.debug("WEIR_API_URL is not set; using %s.", DEFAULT_API_URL)
    return Client()


def _timestamp(when: _dt.datetime | _dt.timedelta | None) -> float | None:
    if when is None:
        return None
    if isinstance(when, _dt.timedelta):
        return time.time() + when.total_seconds()
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.timestamp()


def _seconds(value: _dt.timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, _dt.timedelta) else float(value)
