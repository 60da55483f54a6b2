"""Signals: exceptions a task raises to choose its own final state.

``raise signals.SKIP("nothing new today")`` inside a task ends it ``Skipped``;
``FAIL``, ``SUCCESS``, ``RETRY``, ``LOOP`` and ``PAUSE`` work the same way.
``ENDRUN`` is the engine's own: a runner step raises it to stop with a state.
"""

from __future__ import annotations

from typing import Any

from weir.engine import state as _state

__all__ = [
    "ENDRUN",
    "FAIL",
    "LOOP",
    "PAUSE",
    "RETRY",
    "SKIP",
    "SUCCESS",
    "TRIGGERFAIL",
    "VALIDATIONFAIL",
    "PrefectSignal",
    "PrefectStateSignal",
    "WeirSignal",
    "WeirStateSignal",
    "signal_from_state",
]


class WeirSignal(BaseException):
    """Base of every weir signal.

    A BaseException, as Prefect 1's signals are: a task's own ``except Exception:``
    (a broad handler around its body, a retry helper) lets ``SKIP``, ``FAIL`` or
    ``LOOP`` through to the runner instead of swallowing them.
    """


#: ``result=`` not given to a signal: its state's result is the signal itself.
_ITSELF: Any = object()


class WeirStateSignal(WeirSignal):
    """A signal that carries the state the task should end in."""

    _state_cls: type[_state.State] = _state.State

    def __init__(
        self, message: str | None = None, *args: Any, result: Any = _ITSELF, **state_kwargs: Any
    ) -> None:
        super().__init__(message, *args)
        self.message = message
        # As in Prefect 1: the signal itself unless ``result=`` was given (None too).
        self.state = self._state_cls(
            message, result=self if result is _ITSELF else result, **state_kwargs
        )


class SUCCESS(WeirStateSignal):
    """End the task ``Success``; ``result=`` is its result, else the signal itself (as
    in Prefect 1, as for ``SKIP``)."""

    _state_cls = _state.Success


class FAIL(WeirStateSignal):
    """End the task ``Failed`` (retries apply)."""

    _state_cls = _state.Failed


class TRIGGERFAIL(FAIL):
    """The task's trigger did not pass."""

    _state_cls = _state.TriggerFailed


class VALIDATIONFAIL(FAIL):
    """The task's output did not validate: the task ends ``ValidationFailed`` (a
    ``Failed``; retries apply)."""

    _state_cls = _state.ValidationFailed


class RETRY(WeirStateSignal):
    """Retry the task now (or at ``start_time=``), whatever its ``max_retries``."""

    _state_cls = _state.Retrying


class SKIP(WeirStateSignal):
    """End the task ``Skipped``; downstream tasks skip too unless they opt out.

    The Skipped state's result is ``result=``, or else the signal itself, as in Prefect 1:
    a mapped task's results hold the SKIP where a child skipped (which
    ``FilterTask`` drops), and a child skipped because its upstream was has None."""

    _state_cls = _state.Skipped


class LOOP(WeirStateSignal):
    """Run the task again; ``result=`` is available as ``context.task_loop_result``."""

    _state_cls = _state.Looped

    def __init__(
        self, message: str | None = None, *args: Any, result: Any = None, **kw: Any
    ) -> None:
        super().__init__(message, *args, **kw)
        self.state.result = result


class PAUSE(WeirStateSignal):
    """Stop and wait for manual approval."""

    _state_cls = _state.Paused


class ENDRUN(Exception):
    """Raised by a runner step to stop the run with ``state``."""

    def __init__(self, state: _state.State) -> None:
        super().__init__(state)
        self.state = state


#: Prefect 1's names of the two bases, for ``except signals.PrefectStateSignal:``.
PrefectSignal = WeirSignal
PrefectStateSignal = WeirStateSignal


def signal_from_state(state: _state.State) -> type[WeirStateSignal]:
    """The signal class that ends a task in ``state``'s kind (Prefect 1's helper):
    ``signal_from_state(Skipped())`` is ``SKIP``."""
    # By the state's own class, as Prefect 1 matched it (a Cached state has none).
    for signal in (SUCCESS, FAIL, TRIGGERFAIL, RETRY, SKIP, LOOP, PAUSE):
        if type(state) is signal._state_cls:
            return signal
    raise ValueError(
        f"No signal ends a task in {type(state).__name__}; signals carry Success, Failed, "
        "TriggerFailed, Retrying, Skipped, Looped or Paused."
    )
