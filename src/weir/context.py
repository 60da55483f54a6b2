"""``weir.context``: what the running flow and task know about themselves.

One contextvar holds one small object: a :class:`FlowContext` while a flow runs,
and a :class:`TaskContext` (pointing at it) while a task runs. The engine sets
and resets it exactly once per task run; everything else a task may read (its
full name, its logger, the dates) is made from these when it is read, so a task
that reads nothing pays nothing. User code reads it through the ``context``
proxy, which acts as Prefect 1's ``prefect.context`` (a dict with attributes)::

    from weir import context
    context.flow_name, context["task_name"], context.get("map_index"), "x" in context
    context.get("logger").info("...")  # the task's logger: weir.<task name>
    context.today, context.yesterday_nodash, context.task_full_name  # "name[3]"
    with context(my_value=1): ...     # or context({"my_value": 1}): visible inside
    context.update(b=2); context.c = 3  # last as long as the innermost context

This module imports nothing of weir's at import time, so every layer may use it
(the logger is fetched from ``weir.utilities.logging`` when a task asks for it).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import logging
import os
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers only: at run time this module imports nothing of weir's
    from weir.engine.reporter import Reporter
    from weir.utilities.collections import DotDict

__all__ = ["FlowContext", "TaskContext", "context"]


class FlowContext:
    """Values shared by every task of one flow run."""

    __slots__ = (
        "flow_name",
        "flow_run_id",
        "flow_run_name",
        "parameters",
        "scheduled_start_time",
        "extra",
        "reporter",
        "result_writer",
        "log_task_runs",
    )

    def __init__(
        self,
        flow_name: str | None = None,
        flow_run_id: str | None = None,
        flow_run_name: str | None = None,
        parameters: dict[str, Any] | None = None,
        scheduled_start_time: _dt.datetime | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.flow_name = flow_name
        self.flow_run_id = flow_run_id
        self.flow_run_name = flow_run_name
        self.parameters = parameters if parameters is not None else {}
        self.scheduled_start_time = scheduled_start_time
        self.extra = extra if extra is not None else {}
        #: Where this run's states, events and log records go (set by the runner; never
        #: pickled).
        self.reporter: Reporter | None = None
        #: Writes checkpoints in the background (set by the runner; never pickled).
        self.result_writer: Any = None
        #: Whether task runs log their start and end (``weir.TaskRunner`` at DEBUG): the
        #: runner asks the logger once per flow run, so a task run reads one attribute.
        self.log_task_runs = False

    def __getstate__(self) -> dict[str, Any]:
        return {
            k: getattr(self, k) for k in self.__slots__ if k not in ("reporter", "result_writer")
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.log_task_runs = False
        for k, v in state.items():
            setattr(self, k, v)
        self.reporter = None
        self.result_writer = None

    def copy(self) -> FlowContext:
        new = FlowContext(
            self.flow_name,
            self.flow_run_id,
            self.flow_run_name,
            self.parameters,
            self.scheduled_start_time,
            self.extra,
        )
        new.reporter = self.reporter
        new.result_writer = self.result_writer
        new.log_task_runs = self.log_task_runs
        return new


class TaskContext:
    """Values of one task run; everything else is looked up on its flow's context."""

    __slots__ = (
        "flow",
        "task_name",
        "task_slug",
        "_task_run_id",
        "task_tags",
        "task_run_count",
        "map_index",
        "task_loop_count",
        "task_loop_result",
        "extra",
    )

    def __init__(
        self,
        flow: FlowContext,
        task_name: str,
        task_slug: str | None,
        task_run_count: int = 1,
        map_index: int | None = None,
        task_run_id: str | None = None,
        task_tags: frozenset[str] | set[str] = frozenset(),
        task_loop_count: int | None = None,
        task_loop_result: Any = None,
    ) -> None:
        self.flow = flow
        self.task_name = task_name
        self.task_slug = task_slug
        self.task_run_count = task_run_count
        self.map_index = map_index
        self.task_run_id = task_run_id
        self.task_tags = task_tags
        self.task_loop_count = task_loop_count
        self.task_loop_result = task_loop_result
        self.extra: dict[str, Any] | None = None

    @property
    def task_run_id(self) -> str:
        """The id given by the runner, else one derived on first use (never on the hot path).

        Derived from the flow run id, slug and map index, it is the same for every
        attempt of one task run (retries, loops) and in every process that runs it.
        """
        rid = self._task_run_id
        if rid is None:
            rid = self._task_run_id = _derive_task_run_id(self)
        return rid

    @task_run_id.setter
    def task_run_id(self, value: str | None) -> None:
        self._task_run_id = value


_TASK_RUN_NAMESPACE = uuid.UUID("5f0c6a1e-8d3b-4c2a-9e47-1b6d2f3a9c10")


def task_run_id_for(flow_run_id: str, task_slug: str, map_index: int | None = None) -> str:
    """The id of a flow run's task run: derived, so the engine and the server agree on it."""
    index = "" if map_index is None or map_index < 0 else map_index
    return str(uuid.uuid5(_TASK_RUN_NAMESPACE, f"{flow_run_id}/{task_slug}/{index}"))


def _derive_task_run_id(ctx: TaskContext) -> str:
    flow_run_id = ctx.flow.flow_run_id
    if flow_run_id is None:
        return str(uuid.uuid4())  # a task run outside any flow run: nothing to derive from
    return task_run_id_for(flow_run_id, ctx.task_slug or ctx.task_name, ctx.map_index)


current: contextvars.ContextVar[FlowContext | TaskContext | None] = contextvars.ContextVar(
    "weir_run_context", default=None
)

_MISSING = object()
_FLOW_FIELDS = frozenset(FlowContext.__slots__) - {
    "extra",
    "reporter",
    "result_writer",
    "log_task_runs",
}
_TASK_FIELDS = (frozenset(TaskContext.__slots__) - {"extra", "flow", "_task_run_id"}) | {
    "task_run_id"
}
#: Made from a task run's fields when read (never on the hot path).
_TASK_DERIVED = frozenset({"task_full_name", "logger"})
#: Made from the flow run's start when read; ``date`` given in the context moves them.
_DATES = (
    "date",
    "today",
    "yesterday",
    "tomorrow",
    "today_nodash",
    "yesterday_nodash",
    "tomorrow_nodash",
)
_DERIVED = frozenset(_DATES)
#: Keys weir fills in; read where nothing set them, they are None, not an AttributeError.
_KNOWN = _FLOW_FIELDS | _TASK_FIELDS | _TASK_DERIVED | {"task_run_name"}
#: Keys of one task run, which a flow run started inside it must not inherit.
_TASK_SCOPED = _TASK_FIELDS | _TASK_DERIVED | {"task_run_name"}
#: Task fields that, while the task has none of its own, the flow run's context may
#: give: ``flow.run(context={"task_loop_count": 20})`` starts loops there (Prefect 1).
_FROM_FLOW_WHEN_UNSET = frozenset({"task_loop_count", "task_loop_result"})


#: Times Prefect 1 gave as pendulum ``DateTime``s, on which code ported from it calls
#: pendulum's methods (``date.add(days=1)``, ``.format("YYYY-MM-DD")``,
#: ``.in_timezone(...)``). A ``DateTime`` is a ``datetime``, so nothing else changes.
_PENDULUM_KEYS = frozenset({"date", "scheduled_start_time"})


def _lookup(ctx: FlowContext | TaskContext | None, name: str) -> Any:
    """A key's value: what was set in the innermost context first, then weir's values."""
    value = _plain_lookup(ctx, name)
    if value is _MISSING:
        return environment_values().get(name, _MISSING)
    if name in _PENDULUM_KEYS and isinstance(value, _dt.datetime):
        return _as_pendulum(value)
    return value


#: Prefect 1's ``PREFECT__CONTEXT__<KEY>`` variables, with weir's prefix.
ENV_PREFIX = "WEIR__CONTEXT__"
_SECRETS = "SECRETS"


def environment_values() -> dict[str, Any]:
    """The context's values set in the environment, as Prefect 1 read them:
    ``WEIR__CONTEXT__REGION=eu`` is ``context.region``, ``WEIR__CONTEXT__DB__PORT=5432``
    is ``context.db["port"]`` (keys in lower case), and each value is typed as Prefect 1
    typed it (``true``/``false``, numbers, lists and dicts written as Python). Secrets
    (``WEIR__CONTEXT__SECRETS__<NAME>``) keep their name's case and their text.

    Read when asked (a key set nowhere else, or the whole context), so a variable set
    by the run's own code counts too.
    """
    values: dict[str, Any] = {}
    found = [(k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)]
    if not found:
        return values
    # Nested values read as attributes too (context.db.port), as Prefect 1's config did.
    from weir.utilities.collections import DotDict

    for variable, raw in found:
        if len(variable) == len(ENV_PREFIX):
            continue
        path = variable[len(ENV_PREFIX) :].split("__")
        if path[0].upper() == _SECRETS and len(path) > 1:
            values.setdefault("secrets", DotDict())["__".join(path[1:])] = raw
            continue
        *parents, leaf = [part.lower() for part in path]
        place: Any = values
        for part in parents:
            inner = place.setdefault(part, DotDict())
            if not isinstance(inner, DotDict):
                break  # WEIR__CONTEXT__A=1 and WEIR__CONTEXT__A__B=2: the first wins
            place = inner
        else:
            place.setdefault(leaf, _typed(raw))
    return values


def _typed(raw: str) -> Any:
    """An environment value as Prefect 1 typed it: booleans, then Python literals."""
    import ast

    if raw.upper() in ("TRUE", "FALSE"):
        return raw.upper() == "TRUE"
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return raw


def _as_pendulum(value: _dt.datetime) -> _dt.datetime:
    # Imported when a flow first reads one of these keys: pendulum takes ~0.1 s to load.
    import pendulum

    if isinstance(value, pendulum.DateTime):
        return value
    return pendulum.instance(value)  # a naive datetime is taken as UTC, as weir's are


def _plain_lookup(ctx: FlowContext | TaskContext | None, name: str) -> Any:
    if ctx is None:
        return _root_logger() if name == "logger" else _MISSING
    task = None
    if isinstance(ctx, TaskContext):
        if ctx.extra and name in ctx.extra:
            return ctx.extra[name]
        if name in _TASK_FIELDS:
            value = getattr(ctx, name)
            if value is not None or name not in _FROM_FLOW_WHEN_UNSET:
                return value
        elif name in _TASK_DERIVED:
            return _task_derived(ctx, name)
        task, ctx = ctx, ctx.flow
    if name in ctx.extra:
        return ctx.extra[name]
    if name in _FLOW_FIELDS:
        value = getattr(ctx, name)
        if value is None and name == "flow_run_name":
            return _default_run_name(ctx)
        return value
    if name in _DERIVED:
        return _derived(task or ctx, ctx, name)
    if name == "logger":
        return _root_logger()
    return _MISSING


def _task_derived(ctx: TaskContext, name: str) -> Any:
    if name == "task_full_name":
        k = ctx.map_index
        return ctx.task_name if k is None else f"{ctx.task_name}[{k}]"
    # Prefect 1's logger of a task run: the task's logger, or for a mapped child one
    # named after it (``weir.<task>[k]``), kept for the rest of the task run.
    from weir.utilities.logging import child_logger, get_logger

    logger = get_logger(ctx.task_name)
    if ctx.map_index is not None:
        logger = child_logger(logger, f"{logger.name}[{ctx.map_index}]")
        if ctx.extra is None:
            ctx.extra = {}
        ctx.extra["logger"] = logger
    return logger


def _root_logger() -> logging.Logger:
    from weir.utilities.logging import get_logger

    return get_logger()


def _default_run_name(ctx: FlowContext) -> str | None:
    """A local run's name, as the server names runs: ``<flow name>-<8 hex digits>``."""
    if ctx.flow_name is None or ctx.flow_run_id is None:
        return None
    return f"{ctx.flow_name}-{ctx.flow_run_id.replace('-', '')[:8]}"


def _derived(ctx: FlowContext | TaskContext, flow: FlowContext, name: str) -> Any:
    start = _start(ctx, flow)
    if name == "date":
        return start
    day = start.date()
    if name.startswith("yesterday"):
        day -= _dt.timedelta(days=1)
    elif name.startswith("tomorrow"):
        day += _dt.timedelta(days=1)
    return day.strftime("%Y%m%d") if name.endswith("_nodash") else day.isoformat()


def _start(ctx: FlowContext | TaskContext, flow: FlowContext) -> _dt.datetime:
    """The moment the dates are of: ``date`` when set, else the run's scheduled start."""
    given = ctx.extra.get("date") if ctx.extra else None
    if given is None and ctx is not flow:
        given = flow.extra.get("date")
    if isinstance(given, str):
        given = parse_date(given)
    if isinstance(given, _dt.datetime):
        return given
    if isinstance(given, _dt.date):
        return _dt.datetime(given.year, given.month, given.day, tzinfo=_dt.timezone.utc)
    start = flow.extra.get("scheduled_start_time") or flow.scheduled_start_time
    return start if isinstance(start, _dt.datetime) else _dt.datetime.now(_dt.timezone.utc)


def parse_date(text: str) -> _dt.datetime | None:
    """An ISO 8601 ``date`` given as text (as the server's UI sends it), or None."""
    try:
        value = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)


def _writable() -> dict[str, Any]:
    """Where a value set now goes: the innermost context's own values.

    In a task run, that task run's (the flow's other tasks never see it); inside a
    ``with context(...)`` block, the block's (gone when it ends); elsewhere a context
    of this thread's own, made now, as Prefect 1's thread-local context.
    """
    ctx = current.get()
    if ctx is None:
        ctx = FlowContext()
        current.set(ctx)
    if isinstance(ctx, TaskContext):
        if ctx.extra is None:
            ctx.extra = {}
        return ctx.extra
    return ctx.extra


def user_values() -> dict[str, Any]:
    """The values set in the current context, to pass on to a flow run started here.

    A flow run started inside a task run does not inherit that task run's own keys
    (its name, its logger…): its tasks have their own.
    """
    ctx = current.get()
    if ctx is None:
        return {}
    if isinstance(ctx, TaskContext):
        out = {**ctx.flow.extra, **(ctx.extra or {})}
    else:
        out = dict(ctx.extra)
    for key in _TASK_SCOPED & out.keys():
        del out[key]
    return out


class _ContextProxy:
    """The ``weir.context`` object: Prefect 1's ``prefect.context``, a dict with attributes.

    Reads go to the innermost context (a task run's, a ``with context(...)`` block's);
    writes too, so they last as long as it does.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        value = _lookup(current.get(), name)
        if value is _MISSING:
            if name in _KNOWN:
                return None  # a known key outside a run: nothing to say yet
            raise AttributeError(
                f"weir.context has no value {name!r} here; use context.get({name!r}, default) "
                "for values that may be missing."
            )
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        _writable()[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        value = _lookup(current.get(), name)
        if value is _MISSING:
            if name in _KNOWN:
                return None
            raise KeyError(name)
        return value

    def __setitem__(self, name: str, value: Any) -> None:
        _writable()[name] = value

    def __delitem__(self, name: str) -> None:
        """Forget a value set in the innermost context (weir's own values stay)."""
        ctx = current.get()
        own = (ctx.extra if ctx is not None else None) or {}
        if name not in own:
            raise KeyError(
                f"{name!r} was not set in the current context, so it cannot be deleted here."
            )
        del own[name]

    def get(self, name: str, default: Any = None) -> Any:
        value = _lookup(current.get(), name)
        return default if value is _MISSING or value is None else value

    def pop(self, name: str, *default: Any) -> Any:
        """Remove a value set in the innermost context and return it, as ``dict.pop``:
        ``default`` when it was not set there (else KeyError); weir's own values stay."""
        ctx = current.get()
        own = (ctx.extra if ctx is not None else None) or {}
        if name in own:
            return own.pop(name)
        if default:
            return default[0]
        raise KeyError(f"{name!r} was not set in the current context, so it cannot be popped.")

    def setdefault(self, name: str, default: Any = None) -> Any:
        value = _lookup(current.get(), name)
        if value is _MISSING or value is None:
            _writable()[name] = value = default
        return value

    def update(self, *args: Any, **values: Any) -> None:
        """Set several values at once, as ``dict.update`` (for the innermost context)."""
        _writable().update(*args, **values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _lookup(current.get(), name) not in (_MISSING, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())

    def keys(self) -> Any:
        return self.to_dict().keys()

    def values(self) -> Any:
        return self.to_dict().values()

    def items(self) -> Any:
        return self.to_dict().items()

    def to_dict(self) -> dict[str, Any]:
        """Every value the current context holds, weir's and the ones set in it."""
        ctx = current.get()
        out: dict[str, Any] = {}
        if ctx is None:
            return environment_values()
        flow = ctx.flow if isinstance(ctx, TaskContext) else ctx
        for name in _FLOW_FIELDS:
            out[name] = _lookup(flow, name)
        if flow.flow_run_id is not None:  # in a flow run: its dates too
            for name in _DATES:
                out[name] = _derived(ctx, flow, name)
        out.update(flow.extra)
        if isinstance(ctx, TaskContext):
            for name in _TASK_FIELDS | _TASK_DERIVED:
                out[name] = _lookup(ctx, name)
            out.update(ctx.extra or {})
        for name, value in environment_values().items():
            out.setdefault(name, value)
        for name in _PENDULUM_KEYS:
            if isinstance(out.get(name), _dt.datetime):
                out[name] = _as_pendulum(out[name])
        return out

    def copy(self) -> DotDict:
        """A snapshot of every value the context holds now (Prefect 1's ``context.copy()``,
        a ``DotDict`` as its context was): later changes to the context do not reach
        it, nor its changes the context."""
        from weir.utilities.collections import DotDict

        return DotDict(self.to_dict())

    @contextlib.contextmanager
    def __call__(self, *args: Any, **values: Any) -> Iterator[_ContextProxy]:
        """Add values for the code inside the block (and the tasks and flow runs it runs):
        ``context(a=1)`` or ``context({"a": 1})``, as Prefect 1's ``prefect.context(...)``.
        """
        if args:
            if len(args) > 1 or not isinstance(args[0], Mapping):
                raise TypeError(
                    "context() takes one dict of values and/or keyword values, as in "
                    "context({'a': 1}) or context(a=1)."
                )
            values = {**args[0], **values}
        ctx = current.get()
        if isinstance(ctx, TaskContext):
            new: FlowContext | TaskContext = _copy_task(ctx)
            new.extra = {**(ctx.extra or {}), **values}
        else:
            base = ctx or FlowContext()
            new = base.copy()
            new.extra = {**base.extra, **values}
        token = current.set(new)
        try:
            yield self
        finally:
            current.reset(token)

    def get_logger(self, name: str | None = None) -> logging.LoggerAdapter[logging.Logger]:
        """A logger whose records carry the current flow and task (``record.task_name`` …)."""
        return RunLoggerAdapter(logging.getLogger(name or "weir.task_run"), {})

    def __repr__(self) -> str:
        return f"<weir.context {self.to_dict()!r}>"


def _copy_task(ctx: TaskContext) -> TaskContext:
    new = TaskContext(
        ctx.flow,
        ctx.task_name,
        ctx.task_slug,
        ctx.task_run_count,
        ctx.map_index,
        ctx.task_run_id,
        ctx.task_tags,
        ctx.task_loop_count,
        ctx.task_loop_result,
    )
    new.extra = ctx.extra
    return new


class RunLoggerAdapter(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Adds the flow and task of the moment to every record, read when it is logged."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**run_record_fields(), **(kwargs.get("extra") or {})}
        return msg, kwargs


def run_record_fields() -> dict[str, Any]:
    """The run's identity as log-record attributes."""
    ctx = current.get()
    if ctx is None:
        return {}
    if isinstance(ctx, TaskContext):
        flow = ctx.flow
        return {
            "flow_name": flow.flow_name,
            "flow_run_id": flow.flow_run_id,
            "task_name": ctx.task_name,
            "task_slug": ctx.task_slug,
            "task_run_id": ctx.task_run_id,
            "map_index": ctx.map_index,
        }
    return {"flow_name": ctx.flow_name, "flow_run_id": ctx.flow_run_id}


context = _ContextProxy()
