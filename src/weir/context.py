"""``weir.context``: what the running flow and task know about themselves.

One contextvar holds one small object: a :class:`FlowContext` while a flow runs,
and a :class:`TaskContext` (pointing at it) while a task runs. The engine sets
and resets it exactly once per task run. User code reads it through the
``context`` proxy::

    from weir import context
    context.flow_name, context.task_name, context.map_index, context.parameters
    context.get("task_run_count"), context.today
    logger = context.get_logger()     # records carry flow and task names
    with context(my_value=1): ...     # extra values, visible to code inside

This module imports nothing of weir's, so every layer may use it.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import logging
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers only: at run time this module imports nothing of weir's
    from weir.engine.reporter import Reporter

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

    def __getstate__(self) -> dict[str, Any]:
        return {
            k: getattr(self, k) for k in self.__slots__ if k not in ("reporter", "result_writer")
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
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
_FLOW_FIELDS = frozenset(FlowContext.__slots__) - {"extra", "reporter", "result_writer"}
_TASK_FIELDS = (frozenset(TaskContext.__slots__) - {"extra", "flow", "_task_run_id"}) | {
    "task_run_id"
}
_DERIVED = ("date", "today", "yesterday", "tomorrow", "today_nodash")
#: Task fields that, while the task has none of its own, the flow run's context may
#: give: ``flow.run(context={"task_loop_count": 20})`` starts loops there (Prefect 1).
_FROM_FLOW_WHEN_UNSET = frozenset({"task_loop_count", "task_loop_result"})


def _lookup(ctx: FlowContext | TaskContext | None, name: str) -> Any:
    if ctx is None:
        return _MISSING
    if isinstance(ctx, TaskContext):
        if ctx.extra and name in ctx.extra:
            return ctx.extra[name]
        if name in _TASK_FIELDS:
            value = getattr(ctx, name)
            if value is not None or name not in _FROM_FLOW_WHEN_UNSET:
                return value
        ctx = ctx.flow
    if name in ctx.extra:
        return ctx.extra[name]
    if name in _FLOW_FIELDS:
        return getattr(ctx, name)
    if name in _DERIVED:
        return _derived(ctx, name)
    return _MISSING


def _derived(ctx: FlowContext, name: str) -> Any:
    start = ctx.scheduled_start_time or _dt.datetime.now(_dt.timezone.utc)
    if name == "date":
        return start
    day = start.date()
    return {
        "today": day.isoformat(),
        "yesterday": (day - _dt.timedelta(days=1)).isoformat(),
        "tomorrow": (day + _dt.timedelta(days=1)).isoformat(),
        "today_nodash": day.strftime("%Y%m%d"),
    }[name]


class _ContextProxy:
    """The ``weir.context`` object: read-only attribute and ``get`` access."""

    def __getattr__(self, name: str) -> Any:
        value = _lookup(current.get(), name)
        if value is _MISSING:
            if name in _TASK_FIELDS or name in _FLOW_FIELDS:
                return None  # a known key outside a run: nothing to say yet
            raise AttributeError(
                f"weir.context has no value {name!r} here; use context.get({name!r}, default) "
                "for values that may be missing."
            )
        return value

    def get(self, name: str, default: Any = None) -> Any:
        value = _lookup(current.get(), name)
        return default if value is _MISSING or value is None else value

    def __contains__(self, name: str) -> bool:
        return _lookup(current.get(), name) not in (_MISSING, None)

    def to_dict(self) -> dict[str, Any]:
        ctx = current.get()
        out: dict[str, Any] = {}
        if ctx is None:
            return out
        flow = ctx.flow if isinstance(ctx, TaskContext) else ctx
        for name in _FLOW_FIELDS:
            out[name] = getattr(flow, name)
        out.update(flow.extra)
        if isinstance(ctx, TaskContext):
            for name in _TASK_FIELDS:
                out[name] = getattr(ctx, name)
            out.update(ctx.extra or {})
        return out

    @contextlib.contextmanager
    def __call__(self, **values: Any) -> Iterator[None]:
        """Add values for the code inside the block (and the tasks it runs)."""
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
            yield
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
