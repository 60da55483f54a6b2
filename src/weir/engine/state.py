"""States of task runs and flow runs.

Every run is always in exactly one State. The classes keep Prefect 1's names and
hierarchy so that ``isinstance`` checks read naturally::

    State
    ├── Pending
    │   └── Scheduled
    │       ├── Retrying
    │       └── Paused
    ├── Submitted
    ├── Running
    │   └── Cancelling
    └── Finished
        ├── Success
        │   ├── Cached
        │   ├── Mapped
        │   └── Skipped
        ├── Failed
        │   ├── TriggerFailed
        │   └── TimedOut
        ├── Cancelled
        └── Looped

Behind the classes stands one closed vocabulary, :class:`StateType`, which is
what the server stores, the API carries and the UI colours. It, its named groups
and ``ALLOWED_TRANSITIONS`` live in the leaf module ``weir.state_types`` and are
re-exported here under their Prefect 1 path. The engine's hot path
creates many states, so they are small slotted objects that keep their times as
floats (``ts``, ``start_ts``: seconds since the epoch, what the API carries); the
Prefect 1 attributes ``timestamp`` and ``start_time`` read them as aware UTC
datetimes only when asked. A state handler may change any of a state's attributes
(``message``, ``result``, ``context`` …), as in Prefect 1; new attributes of its own
go in ``context``, a dict, since a per-state ``__dict__`` would cost every task run.

``ALLOWED_TRANSITIONS`` is the one table of moves a run's state may make; the
server checks every write against it.
"""

from __future__ import annotations

import datetime as _dt
import functools
import time
from typing import Any

from weir.state_types import (
    ALLOWED_TRANSITIONS,
    FAILED_TYPES,
    FINISHED_TYPES,
    PENDING_TYPES,
    SCHEDULED_TYPES,
    SUCCESSFUL_TYPES,
    StateType,
    check_transition,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "FAILED_TYPES",
    "FINISHED_TYPES",
    "PENDING_TYPES",
    "SCHEDULED_TYPES",
    "SUCCESSFUL_TYPES",
    "Cached",
    "Cancelled",
    "Cancelling",
    "Failed",
    "Finished",
    "Looped",
    "Mapped",
    "Paused",
    "Pending",
    "Resume",
    "Retrying",
    "Running",
    "Scheduled",
    "Skipped",
    "State",
    "StateType",
    "Submitted",
    "Success",
    "TimedOut",
    "TriggerFailed",
    "ValidationFailed",
    "check_transition",
    "state_from_dict",
]


S = StateType


_NO_RESULT: Any = None


class State:
    """A run's state: its kind, a message, a result and when it began."""

    __slots__ = ("message", "result", "ts", "_context", "location")
    type: StateType = S.PENDING  # overridden by every subclass

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        context: dict[str, Any] | None = None,
        location: str | None = None,
    ) -> None:
        self.message = message
        self.result = result
        #: When the state was created, as seconds since the epoch.
        self.ts = time.time()
        self._context = context
        #: Where the result is persisted, when it is (a Result location).
        self.location = location

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def timestamp(self) -> _dt.datetime:
        """When the state was created, as an aware UTC datetime."""
        return _dt.datetime.fromtimestamp(self.ts, tz=_dt.timezone.utc)

    @property
    def context(self) -> dict[str, Any]:
        """Free-form information about the run, a dict as in Prefect 1 (made on first use,
        so that a handler may write ``new_state.context["key"] = ...``)."""
        ctx = self._context
        if ctx is None:
            ctx = self._context = {}
        return ctx

    @context.setter
    def context(self, value: dict[str, Any] | None) -> None:
        self._context = value

    def __repr__(self) -> str:
        if self.message:
            return f"<{self.name}: {self.message!r}>"
        return f"<{self.name}>"

    def __eq__(self, other: object) -> bool:
        # As in Prefect 1: the same kind, result and data (a retry's start time, a loop's
        # count, ...); not the message, the context, the time, or where the result is kept.
        if type(self) is not type(other):
            return NotImplemented
        assert isinstance(other, State)
        return _same(self.result, other.result) and all(
            _same(getattr(self, name, None), getattr(other, name, None))
            for name in _compared(type(self))
        )

    __hash__ = object.__hash__

    @property
    def _result(self) -> Any:
        """The result as Prefect 1's ``state._result`` held it: a ``Result`` with the
        ``value`` and the ``location`` where it is kept (code reads
        ``state._result.location``). A new object each time: set ``state.result``."""
        from weir.engine.results.base import Result

        return Result(value=self.result, location=self.location)

    @_result.setter
    def _result(self, given: Any) -> None:
        # Prefect 1 code rehydrates a state with ``state._result = LocalResult(location=…)``
        # and then ``state.load_result()``: keep its value and location.
        self.result = getattr(given, "value", None)
        self.location = getattr(given, "location", None)

    def load_result(self, result: Any = None) -> State:
        """Read the result back from ``location`` when the state holds none (Prefect 1's
        ``load_result``), with ``result``'s ``read`` when given (a ``Result``), else the
        default reader (a path, URL or inline location). Returns the state itself."""
        if self.result is None and self.location is not None:
            if result is None:
                from weir.engine.results.base import Result

                result = Result()
            self.result = result.read(self.location).value
        return self

    # The questions everyone asks of a state.
    def is_pending(self) -> bool:
        return isinstance(self, Pending)

    def is_scheduled(self) -> bool:
        return isinstance(self, Scheduled)

    def is_retrying(self) -> bool:
        return isinstance(self, Retrying)

    def is_paused(self) -> bool:
        return isinstance(self, Paused)

    def is_submitted(self) -> bool:
        return isinstance(self, Submitted)

    def is_running(self) -> bool:
        return isinstance(self, Running)

    def is_cancelling(self) -> bool:
        return isinstance(self, Cancelling)

    def is_finished(self) -> bool:
        return isinstance(self, Finished)

    def is_successful(self) -> bool:
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        return isinstance(self, Failed)

    def is_skipped(self) -> bool:
        return isinstance(self, Skipped)

    def is_cached(self) -> bool:
        return isinstance(self, Cached)

    def is_mapped(self) -> bool:
        return isinstance(self, Mapped)

    def is_looped(self) -> bool:
        return isinstance(self, Looped)

    def is_cancelled(self) -> bool:
        return isinstance(self, Cancelled)

    def is_meta_state(self) -> bool:
        return False

    def to_dict(self) -> dict[str, Any]:
        """The state as the API carries it (the result stays behind; its location goes)."""
        data: dict[str, Any] = {
            # _value_ is the member's plain attribute; .value goes through enum's
            # property, which a thousand-task run's reporter notices.
            "type": self.type._value_,
            "message": self.message,
            "timestamp": self.ts,
        }
        if self.location is not None:
            data["location"] = self.location
        return data


#: What ``State.__eq__`` leaves out (besides the result, compared first).
_NOT_COMPARED = frozenset({"message", "result", "ts", "_context", "location"})


@functools.cache
def _compared(cls: type[State]) -> tuple[str, ...]:
    """The data slots of ``cls`` that equality compares."""
    names = (n for c in cls.__mro__ for n in getattr(c, "__slots__", ()))
    return tuple(dict.fromkeys(n for n in names if n not in _NOT_COMPARED))


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - e.g. numpy arrays refuse truthiness
        return a is b


class Pending(State):
    """The run has not started yet."""

    __slots__ = ("cached_inputs",)
    type = S.PENDING

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        cached_inputs: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, result, **kw)
        self.cached_inputs = cached_inputs


def _seconds(when: float | _dt.datetime | None) -> float | None:
    """A start time as seconds since the epoch; a naive datetime is taken as UTC, as
    Prefect 1 (pendulum) takes it."""
    if when is None or type(when) is float:
        return when
    if isinstance(when, _dt.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        return when.timestamp()
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        return float(when)
    raise TypeError(
        f"start_time must be a datetime (or seconds since the epoch), not "
        f"{type(when).__name__}: {when!r}."
    )


def _utc(seconds: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)


class Scheduled(Pending):
    """The run is waiting for ``start_time``.

    ``start_time`` reads as an aware UTC datetime, as in Prefect 1; one not given means
    now (when the state was made). ``start_ts`` holds it as seconds since the epoch
    (None: not given), which is what the engine and the API use.
    """

    __slots__ = ("start_ts",)
    type = S.SCHEDULED

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        start_time: float | _dt.datetime | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, result, **kw)
        self.start_ts = _seconds(start_time)

    @property
    def start_time(self) -> _dt.datetime | None:
        ts = self.start_ts
        return _utc(self.ts if ts is None else ts)

    @start_time.setter
    def start_time(self, value: float | _dt.datetime | None) -> None:
        self.start_ts = _seconds(value)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["start_time"] = self.start_ts
        return data


class Retrying(Scheduled):
    """The run failed and will be tried again at ``start_time``."""

    __slots__ = ("run_count",)
    type = S.RETRYING

    def __init__(
        self, message: str | None = None, result: Any = _NO_RESULT, *, run_count: int = 1, **kw: Any
    ) -> None:
        super().__init__(message, result, **kw)
        self.run_count = run_count

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["run_count"] = self.run_count
        return data


class Paused(Scheduled):
    """The task waits for manual approval (the ``manual_only`` trigger).

    Unlike the other scheduled states, its ``start_time`` stays None when not given
    (it waits indefinitely), as in Prefect 1."""

    __slots__ = ()
    type = S.PAUSED

    @property
    def start_time(self) -> _dt.datetime | None:
        ts = self.start_ts
        return None if ts is None else _utc(ts)

    @start_time.setter
    def start_time(self, value: float | _dt.datetime | None) -> None:
        self.start_ts = _seconds(value)


class Resume(Scheduled):
    """Approval to run a Paused task (Prefect 1's ``Resume``): given to a run in
    ``task_states``, the task runs as if ``context.resume`` were set for it alone.

    An engine-side word only: to the server and the UI it is a Scheduled state.
    """

    __slots__ = ()
    type = S.SCHEDULED


class Submitted(State):
    """The run was handed to an agent or an executor and will start soon."""

    __slots__ = ()
    type = S.SUBMITTED


class Running(State):
    """The run is executing."""

    __slots__ = ()
    type = S.RUNNING


class Cancelling(Running):
    """Cancellation was asked for; the run is stopping."""

    __slots__ = ()
    type = S.CANCELLING


class Finished(State):
    """The run has ended; a base class, never instantiated by the engine."""

    __slots__ = ()
    type = S.SUCCESS


class Success(Finished):
    """The run ended well; ``result`` holds the return value."""

    __slots__ = ()
    type = S.SUCCESS


class Cached(Success):
    """The result was taken from the cache instead of running the task."""

    __slots__ = ("cached_inputs", "cached_result_expiration", "cached_parameters")
    type = S.CACHED

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        cached_inputs: dict[str, Any] | None = None,
        cached_parameters: dict[str, Any] | None = None,
        cached_result_expiration: float | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, result, **kw)
        self.cached_inputs = cached_inputs
        self.cached_parameters = cached_parameters
        self.cached_result_expiration = cached_result_expiration


class Mapped(Success):
    """A mapped task: ``map_states`` holds its children's states, one per item."""

    __slots__ = ("map_states",)
    type = S.MAPPED

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        map_states: list[State] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, result, **kw)
        self.map_states: list[State] = map_states if map_states is not None else []

    @property
    def n_map_states(self) -> int:
        return len(self.map_states)

    def is_meta_state(self) -> bool:
        return False

    def load_result(self, result: Any = None) -> State:
        """Each child's result read back (see ``State.load_result``); theirs, in order,
        become this state's."""
        for child in self.map_states:
            if child is not None:
                child.load_result(result)
        if self.map_states:
            self.result = [c.result if c is not None else None for c in self.map_states]
        return self

    def counts(self) -> dict[str, int]:
        """How many children ended in each state, by state name."""
        out: dict[str, int] = {}
        for s in self.map_states:
            out[s.name] = out.get(s.name, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["map_counts"] = self.counts()
        return data


class Skipped(Success):
    """The run was skipped; skipping counts as success for triggers."""

    __slots__ = ()
    type = S.SKIPPED


class Failed(Finished):
    """The run failed; ``result`` holds the exception when there was one."""

    __slots__ = ()
    type = S.FAILED


class TriggerFailed(Failed):
    """The task's trigger did not pass, so it did not run."""

    __slots__ = ()
    type = S.TRIGGER_FAILED


class ValidationFailed(Failed):
    """The task's output did not validate (``VALIDATIONFAIL``), as in Prefect 1.

    An engine-side word only: to the server and the UI it is a Failed state.
    """

    __slots__ = ()
    type = S.FAILED


class TimedOut(Failed):
    """The run took longer than its timeout."""

    __slots__ = ()
    type = S.TIMED_OUT


class Cancelled(Finished):
    """The run was cancelled before it ended on its own."""

    __slots__ = ()
    type = S.CANCELLED


class Looped(Finished):
    """The task raised LOOP; it runs again with ``loop_count`` + 1."""

    __slots__ = ("loop_count",)
    type = S.LOOPED

    def __init__(
        self,
        message: str | None = None,
        result: Any = _NO_RESULT,
        *,
        loop_count: int = 1,
        **kw: Any,
    ) -> None:
        super().__init__(message, result, **kw)
        self.loop_count = loop_count


STATE_CLASSES: dict[StateType, type[State]] = {
    cls.type: cls
    for cls in (
        Pending,
        Scheduled,
        Retrying,
        Paused,
        Submitted,
        Running,
        Cancelling,
        Success,
        Cached,
        Mapped,
        Skipped,
        Failed,
        TriggerFailed,
        TimedOut,
        Cancelled,
        Looped,
    )
}
assert set(STATE_CLASSES) == set(StateType)


def state_from_dict(data: dict[str, Any]) -> State:
    """Rebuild a State from :meth:`State.to_dict` output (without its result)."""
    cls = STATE_CLASSES[StateType(data["type"])]
    kw: dict[str, Any] = {}
    if issubclass(cls, Scheduled) and data.get("start_time") is not None:
        kw["start_time"] = data["start_time"]
    if cls is Retrying and data.get("run_count") is not None:
        kw["run_count"] = data["run_count"]
    state = cls(data.get("message"), location=data.get("location"), **kw)
    if data.get("timestamp") is not None:
        state.ts = float(data["timestamp"])
    return state
