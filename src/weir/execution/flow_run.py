"""``weir execute flow-run ID``: load a registered flow and run it, reporting to the server.

The steps, each leaving a trace event on the run:

1. ``process_started`` — this process, its pid and host.
2. fetch the run and its flow version; a run that has already finished is left alone.
3. ``flow_loaded`` — the flow rebuilt from its storage, its run plan and task runners
   built, and how long that took.
4. ``flow_run_resumed`` — task runs that finished well in an earlier attempt, with a
   checkpointed result, mapped children too, are given to the FlowRunner as they are,
   so they do not run again (see ``weir.execution.resume``).
5. the FlowRunner runs with the :class:`~weir.execution.reporter.ApiReporter`
   (``flow_run_started``, ``executor_started``, task events, ``flow_run_finished``).
6. a task retry due later than ``WEIR_MAX_LOCAL_RETRY_WAIT`` seconds ends this
   process: the run goes back to ``Scheduled`` for that time and resumes then.

The process writes as one attempt of the run: ``WEIR_FLOW_RUN_ATTEMPT``, which
the agent sets to the attempt its claim gave the run, or (run by hand, without
it) the run's current attempt. Every request carries it. When the server says
another attempt has taken the run over (the run was rescheduled while this
process was paused or cut off, and claimed again), the process stops running
tasks, writes nothing more, and exits (code 0) after one log line saying so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import os
import socket
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from typing import Any

from weir.client import Client
from weir.client.settings import ATTEMPT_ENV
from weir.core.task import Parameter
from weir.engine.flow_runner import FlowRunner
from weir.engine.state import (
    FINISHED_TYPES,
    Failed,
    Resume,
    Retrying,
    State,
    StateType,
    state_from_dict,
)
from weir.engine.task_runner import parameter_state
from weir.execution import resume
from weir.execution.reporter import ApiReporter
from weir.execution.settings import FlowRunSettings
from weir.schemas.responses import FlowSummary
from weir.schemas.states import RESUME_FIELD
from weir.utilities.logging import ENV_LEVEL, configure_logging

logger = logging.getLogger(__name__)


#: A client made ahead by :func:`prepare`, with the settings it was made for.
_prepared: tuple[tuple[str, str | None], Client] | None = None


def prepare() -> None:
    """Do ahead what every run needs before its first step, while no run is known yet.

    The agent's spare process calls this before it waits for its run: making the
    API client (its TLS context alone takes tens of milliseconds), loading the
    result classes, and one full collection with the heap frozen after it.
    """
    global _prepared
    from weir.engine.results import LocalResult  # noqa: F401 - imports fsspec

    _prepared = (_client_settings(), Client())
    gc.collect()
    gc.freeze()


def _client_settings() -> tuple[str, str | None]:
    """The API URL and key a new Client would use now."""
    from weir.client import settings

    return settings.api_url(None), settings.api_key(None)


def _client() -> Client:
    """The prepared client when the settings are still the ones it was made for."""
    global _prepared
    prepared, _prepared = _prepared, None
    if prepared is not None and prepared[0] == _client_settings():
        return prepared[1]
    return Client()


def execute_flow_run(flow_run_id: str | uuid.UUID, client: Client | None = None) -> State | None:
    """Run one registered flow run to its end (or to its next scheduled resume)."""
    client = client or _client()
    settings = FlowRunSettings.read()
    run, meta = client.get_flow_run_with_flow(flow_run_id)
    attempt = _attempt(run, settings.flow_run_attempt)
    client.fence(attempt)
    if attempt != run.attempt:
        logger.warning(
            "Flow run %s was taken over by attempt %d before this process (attempt %d) "
            "started it; this process stops and writes nothing.",
            run.id,
            run.attempt,
            attempt,
        )
        return None
    reporter = ApiReporter(
        client,
        run.id,
        run.version,
        heartbeat_interval=settings.heartbeat_seconds,
    )
    reporter.trace("process_started", data={"pid": os.getpid(), "host": socket.gethostname()})
    try:
        if run.state.type in FINISHED_TYPES:
            logger.info("Flow run %s is already %s; nothing to do.", run.id, run.state.type.value)
            return None
        if run.cancel_requested:
            reporter.set_state({"type": "Cancelled", "message": "Cancelled before it started."})
            return None
        flow = _load_flow(reporter, meta)
        if flow is None:
            return None
        # A run that never went Running has no task runs of an earlier attempt to keep:
        # its first attempt skips the read (one request less per run).
        task_states = (
            _resume_states(client, flow, run.id, reporter, run.parameters)
            if run.started_at is not None
            else {}
        )
        # Everything so far (modules, the flow, the client) lives as long as the
        # process: keep the cyclic GC from walking it again for every collection the
        # run's many small states trigger.
        gc.collect()
        gc.freeze()
        if task_states:
            reporter.trace("flow_run_resumed", data=resume.counts(task_states))
        with _sender_keeps_up():
            final = FlowRunner(flow, reporter=reporter).run(
                parameters=run.parameters,
                executor=flow.executor,
                flow_run_id=str(run.id),
                flow_run_name=run.name,
                scheduled_start_time=dt.datetime.fromtimestamp(
                    run.scheduled_start_time, tz=dt.timezone.utc
                ),
                task_states=task_states,
                # What the run was created with (a parent's create_flow_run(context=...)).
                context=run.context,
                max_retry_wait=settings.max_local_retry_wait,
                resume_later=True,
            )
        # Superseded: the run stopped as if cancelled, and its end belongs to the new attempt.
        return None if reporter.superseded else final
    except Exception as exc:
        logger.exception("Flow run %s: the run crashed.", run.id)
        reporter.set_state(
            Failed(
                f"The flow run process crashed: {exc!r}\n{traceback.format_exc(limit=5)}"
            ).to_dict()
        )
        return None
    finally:
        reporter.close()


def _attempt(run: Any, given: str) -> int:
    """The attempt this process writes as: the agent's (``WEIR_FLOW_RUN_ATTEMPT``, given),
    else the run's current one (a run executed by hand)."""
    given = given.strip()
    if not given:
        return int(run.attempt)
    try:
        return int(given)
    except ValueError:
        raise ValueError(
            f"{ATTEMPT_ENV}={given!r} is not a number; it is the flow run's attempt, which "
            "the agent sets. Unset it to run as the run's current attempt."
        ) from None


#: Seconds a thread may hold the GIL while another waits for it, during the run.
SWITCH_INTERVAL = 0.001


@contextlib.contextmanager
def _sender_keeps_up() -> Iterator[None]:
    """Let the reporter's sender have the GIL within 1 ms while tasks run.

    Tasks on the local executor keep the GIL, and Python hands it to a waiting
    thread only every switch interval (5 ms): a send during a busy run took
    7-10 ms, its every step waiting that long, so most of a thousand-task run's
    states were left for the last flush, after the last task.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _load_flow(reporter: ApiReporter, meta: FlowSummary) -> Any:
    """The run's flow from its storage (``meta``: the flow version without its graph,
    which would be decoded for nothing)."""
    from weir.storage import storage_from_dict

    started = time.perf_counter()
    try:
        if not meta.storage:
            raise ValueError(
                f"Flow '{meta.name}' was registered without storage; register it with "
                "`weir register SCRIPT` or flow.register()."
            )
        storage = storage_from_dict(meta.storage)
        flow = storage.get_flow(meta.name)
    except Exception as exc:  # noqa: BLE001 - reported on the run, not raised
        reporter.trace("flow_load_failed", data={"error": repr(exc)})
        reporter.set_state(
            Failed(f"Could not load flow '{meta.name}' from its storage: {exc}").to_dict()
        )
        return None
    # Its run plan and task runners too (cached on the flow), as a flow run before in
    # the same process would have left them: once Running, the run only runs tasks.
    FlowRunner(flow).prepare()
    reporter.trace(
        "flow_loaded",
        data={
            "seconds": round(time.perf_counter() - started, 4),
            "storage": meta.storage.get("type"),
            "flow": meta.name,
            "version": meta.version,
        },
    )
    return flow


def _resume_states(
    client: Client,
    flow: Any,
    flow_run_id: Any,
    reporter: Any = None,
    parameters: dict[str, Any] | None = None,
) -> dict[Any, State]:
    """States of an earlier attempt worth keeping (see ``weir.execution.resume``);
    ``parameters``: the run's (its Parameters' values).

    With a ``reporter``, task runs that ended badly go back to Pending through it.
    """
    from weir.engine.results import Result

    kept: dict[Any, State] = {}
    retrying: dict[Any, State] = {}
    children: dict[Any, dict[int, State]] = {}
    reopen: list[Any] = []
    reader = Result()
    for tr in _all_task_runs(client, flow_run_id):
        try:
            task = flow.task_by_slug(tr.task_slug)
        except KeyError:
            continue
        if tr.state.type in resume.REOPEN:
            reopen.append(tr)
            continue
        if tr.state.type == StateType.RETRYING:
            state = state_from_dict(tr.state.model_dump())
        elif tr.state.type == StateType.SCHEDULED and tr.state.extra_data().get(RESUME_FIELD):
            # Approved by a person while the run was Paused (``weir flow-run resume``).
            state = Resume(tr.state.message)
        elif isinstance(task, Parameter) and tr.state.type == StateType.SUCCESS:
            # The run's value, taken as kept: reported again, its task run refused the move.
            state = parameter_state(task, parameters or {})
        else:
            state = resume.kept_state(tr, reader)
        if state is None:
            continue
        if isinstance(state, (Retrying, Resume)) and tr.map_index == -1:
            retrying[task] = state
        elif tr.map_index == -1:
            kept[task] = state
        else:
            children.setdefault(task, {})[tr.map_index] = state
    resume.keep_mapped(flow, kept, children)
    # A retry scheduled by the earlier attempt goes on as its next attempt, its upstream
    # kept or run again (it waits for them either way): run again from its first, a task
    # that keeps failing would schedule a new first retry forever. An approved pause
    # runs approved, likewise.
    kept.update(retrying)
    if reporter is not None:
        resume.reopen(reporter, reopen)
    return kept


def _all_task_runs(client: Client, flow_run_id: Any, page: int = 10_000) -> list[Any]:
    out: list[Any] = []
    while True:
        batch = client.list_task_runs(flow_run_id, limit=page, offset=len(out))
        out.extend(batch)
        if len(batch) < page:
            return out


def main(flow_run_id: str) -> int:
    """The CLI's entry point: 0 when the run ended (whatever its state), 1 otherwise."""
    settings = FlowRunSettings.read()
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # One line per HTTP request would bury the run's own log lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The root's handler prints weir's records here too: a second one would print each
    # line twice. Their level is WEIR__LOGGING__LEVEL's (INFO by default), or DEBUG when
    # WEIR_LOG_LEVEL asks for the process's debug lines.
    debug = settings.log_level.upper() == "DEBUG" and not os.environ.get(ENV_LEVEL)
    configure_logging(level="DEBUG" if debug else None, terminal=False)
    state = execute_flow_run(flow_run_id)
    if state is not None:
        logger.info("Flow run %s ended %s: %s", flow_run_id, state.name, state.message)
    return 0


__all__ = ["execute_flow_run", "main"]
