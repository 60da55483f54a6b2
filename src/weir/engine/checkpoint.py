"""Checkpoints and targets: persisting task results, and reading them back.

- **Checkpointing**: a successful task's result is written with its Result
  (the task's ``result=``, else the flow's, else ``LocalResult()``) when
  checkpointing is on: ``checkpoint=True`` on the task, else on the flow, else
  the ``WEIR_CHECKPOINTING`` environment variable (``true`` under an agent).
  The state keeps the location; restarts and caches read the value back.
- **Targets**: a task with ``target=`` (a location template) is not run when a
  result already exists there: its state is ``Cached`` with the value read back.
  After a run it writes its result to the target.
- **Persistent caches**: a ``cache_for`` entry whose result was written is also
  recorded on disk (``$WEIR_HOME/cache``), so another process reuses it.

Template values come from the run's context (``flow_name``, ``task_name``,
``task_slug``, ``map_index``, ``parameters``, ``today`` … and each parameter by
name).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cloudpickle

from weir.context import TaskContext
from weir.context import context as _context
from weir.context import current as _current
from weir.engine.state import Cached, State
from weir.utilities.home import weir_home

logger = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}


def checkpointing_enabled(task_checkpoint: bool | None, flow_checkpoint: bool | None) -> bool:
    """Whether results are written: the task's ``checkpoint``, else the flow's, else the
    run's switch: ``checkpointing`` in the context (Prefect 1's
    ``context(checkpointing=True)``), else ``WEIR_CHECKPOINTING``."""
    if task_checkpoint is not None:
        return bool(task_checkpoint)
    if flow_checkpoint is not None:
        return bool(flow_checkpoint)
    switch = _context.get("checkpointing")
    if switch is not None:
        return switch is True or str(switch).strip().lower() in _TRUE
    return os.environ.get("WEIR_CHECKPOINTING", "").strip().lower() in _TRUE


_DEFAULT_RESULTS: dict[tuple[str | None, str | None], Any] = {}


def default_result() -> Any:
    """The LocalResult under ``$WEIR_HOME/results``, one per directory (it checks the
    directory when made, which a thousand tasks need not repeat)."""
    # Keyed by the variables the directory is made of: working the path out again
    # (pathlib, ~ expansion) cost more than the rest of a first run's task setup.
    key = (os.environ.get("WEIR_HOME"), os.environ.get("HOME"))
    result = _DEFAULT_RESULTS.get(key)
    if result is None:
        from weir.engine.results import LocalResult, results_home

        result = _DEFAULT_RESULTS[key] = LocalResult(dir=str(results_home()))
    return result


def template_values(ctx: TaskContext, inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a location template may use, as in Prefect 1: the task's ``inputs``, then
    the context's values (any key, ``yesterday_nodash`` or ``task_full_name`` too),
    then the parameters by name."""
    flow = ctx.flow
    values: dict[str, Any] = dict(flow.parameters)
    values.update(flow.extra)
    values.update(
        flow_name=flow.flow_name,
        flow_run_id=flow.flow_run_id,
        flow_run_name=flow.flow_run_name,
        parameters=flow.parameters,
        task_name=ctx.task_name,
        task_slug=ctx.task_slug,
        task_run_count=ctx.task_run_count,
        map_index="" if ctx.map_index is None else ctx.map_index,
    )
    if inputs:
        values.update(inputs)
    return _TemplateValues(values, ctx)


class _TemplateValues(dict):  # type: ignore[type-arg]
    """Template values; the costlier ones (ids, dates) are made only when a template asks."""

    def __init__(self, values: dict[str, Any], ctx: TaskContext) -> None:
        super().__init__(values)
        self._ctx = ctx

    def complete(self) -> dict[str, Any]:
        """Every value, the costly ones included (for a callable location)."""
        return {**self, **{k: self[k] for k in ("task_run_id", "today", "date") if k not in self}}

    def __missing__(self, key: str) -> Any:
        ctx = self._ctx
        start = ctx.flow.scheduled_start_time
        if key == "task_run_id":
            return ctx.task_run_id
        if key == "today":
            return (start.date() if start is not None else _today()).isoformat()
        if key == "date":
            return start
        # Any other key of the task run's context (yesterday_nodash, task_full_name,
        # scheduled_start_time, task_tags...): the template is read in its thread.
        value = _context.get(key, _ABSENT) if _current.get() is ctx else _ABSENT
        if value is _ABSENT:
            raise KeyError(key)
        return value


_ABSENT = object()


def _today() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).date()


#: Results whose bytes are at most this long, checkpointed without a Result of the
#: user's, travel inside their location (``inline:…``) with the task run's state to
#: the server: no file per task, and a resumed run reads them back from the state.
INLINE_LIMIT = 2048


def write(
    result: Any,
    value: Any,
    ctx: TaskContext,
    location: Any = None,
    writer: Any = None,
    inline_limit: int = 0,
    inputs: Mapping[str, Any] | None = None,
) -> str:
    """Write ``value`` with ``result`` (at ``location`` when given); return where it goes.

    With a ``writer`` (a :class:`ResultWriter`) the bytes are written in the
    background and the location is returned at once. With ``inline_limit``, bytes
    up to that length are not written anywhere: the location holds them.
    """
    if result.inline:
        return str(result.inline_location(result.serializer.serialize(value)))
    if inline_limit and location is None:
        data = result.serializer.serialize(value)
        if len(data) <= inline_limit:
            return str(result.inline_location(data))
    if location is not None:
        result = result.copy()
        result.location = location
    located = result.locate(template_values(ctx, inputs))
    if writer is None:
        located.store(value)
    else:
        writer.submit(located, value)
    return str(located.location)


class ResultWriter:
    """Writes checkpoints off the task path, in a background thread.

    A task's Success carries its result's location at once; the bytes follow.
    ``drain()`` waits for every write and runs before a flow run reports its final
    state, so a finished run's checkpoints are all on disk. A process that dies
    before a write lands leaves a location with nothing there: a resumed run finds
    the checkpoint unreadable and runs that task again, which is the same as never
    having checkpointed it.
    """

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="weir-results")
        self._pending: list[Any] = []

    def submit(self, located: Any, value: Any) -> None:
        self._pending.append(self._pool.submit(located.store, value))

    def drain(self) -> list[BaseException]:
        """Wait for every write; return the errors (each logged once)."""
        errors = []
        pending, self._pending = self._pending, []
        for fut in pending:
            exc = fut.exception()
            if exc is not None:
                logger.error("A task result could not be written: %r", exc)
                errors.append(exc)
        return errors

    def close(self) -> None:
        self.drain()
        self._pool.shutdown(wait=True)


def read_target(
    result: Any, target: Any, ctx: TaskContext, inputs: Mapping[str, Any] | None = None
) -> State | None:
    """A Cached state read from the target when a result exists there, else None."""
    templated = result.copy()
    templated.location = target
    located = templated.locate(template_values(ctx, inputs))
    location = str(located.location)
    if not located.exists(location):
        return None
    found = located.read(location)
    return Cached(
        f"Result found at task target {found.location}.",
        result=found.value,
        location=str(found.location),
    )


# --- the on-disk side of the cache ------------------------------------------------
def _cache_dir() -> Path:
    return weir_home() / "cache"


def _cache_file(key: str) -> Path:
    return _cache_dir() / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".pkl")


def persist_cached(key: str, state: Cached) -> None:
    """Record a cache entry whose result is stored at ``state.location``."""
    if state.location is None:
        return
    entries = [e for e in load_cached(key) if e.location != state.location]
    entry = Cached(
        state.message,
        cached_inputs=state.cached_inputs,
        cached_parameters=state.cached_parameters,
        cached_result_expiration=state.cached_result_expiration,
        location=state.location,
    )
    entries.insert(0, entry)
    path = _cache_file(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(cloudpickle.dumps(entries[:20]))
    tmp.replace(path)


def load_cached(key: str) -> list[Cached]:
    """Unexpired cache entries recorded on disk for ``key`` (values not yet read)."""
    path = _cache_file(key)
    try:
        entries = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return []
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return []  # a damaged cache file only costs a recomputation
    now = time.time()
    return [
        e for e in entries if e.cached_result_expiration is None or e.cached_result_expiration > now
    ]
