"""Triggers: when may a task run, given the states of its upstream tasks?

A trigger is ``trigger(upstream_states: dict[Edge, State]) -> bool``; it raises
``TRIGGERFAIL`` (the task ends ``TriggerFailed``), ``SKIP`` or ``PAUSE`` when the
task must not run. Skipped upstream tasks count as successful.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from weir.engine import signals
from weir.engine.state import State

__all__ = [
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "manual_only",
    "not_all_skipped",
    "some_failed",
    "some_successful",
]

Trigger = Callable[[Mapping[Any, State]], bool]


def all_successful(upstream_states: Mapping[Any, State]) -> bool:
    """Run when every upstream task succeeded (the default)."""
    for s in upstream_states.values():
        if not s.is_successful():
            raise signals.TRIGGERFAIL(
                'Trigger was "all_successful" but some of the upstream tasks failed.'
            )
    return True


def all_finished(upstream_states: Mapping[Any, State]) -> bool:
    """Run when every upstream task finished, whatever its outcome."""
    for s in upstream_states.values():
        if not s.is_finished():
            raise signals.TRIGGERFAIL(
                'Trigger was "all_finished" but some of the upstream tasks were not finished.'
            )
    return True


always_run = all_finished


def all_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run only when every upstream task failed."""
    for s in upstream_states.values():
        if not s.is_failed():
            raise signals.TRIGGERFAIL(
                'Trigger was "all_failed" but some of the upstream tasks succeeded.'
            )
    return True


def any_successful(upstream_states: Mapping[Any, State]) -> bool:
    """Run when at least one upstream task succeeded (or there are none)."""
    if upstream_states and not any(s.is_successful() for s in upstream_states.values()):
        raise signals.TRIGGERFAIL(
            'Trigger was "any_successful" but none of the upstream tasks succeeded.'
        )
    return True


def any_failed(upstream_states: Mapping[Any, State]) -> bool:
    """Run when at least one upstream task failed (or there are none)."""
    if upstream_states and not any(s.is_failed() for s in upstream_states.values()):
        raise signals.TRIGGERFAIL('Trigger was "any_failed" but none of the upstream tasks failed.')
    return True


def not_all_skipped(upstream_states: Mapping[Any, State]) -> bool:
    """Run when every upstream succeeded and not all of them were skipped."""
    states = list(upstream_states.values())
    if states and all(s.is_skipped() for s in states):
        raise signals.SKIP(message="All upstream tasks were skipped.", result=None)
    if not all(s.is_successful() for s in states):
        raise signals.TRIGGERFAIL(
            'Trigger was "not_all_skipped" but some of the upstream tasks failed.'
        )
    return True


def manual_only(upstream_states: Mapping[Any, State]) -> bool:
    """Never run on its own: the task pauses until it is resumed by hand."""
    from weir.context import context

    if context.get("resume"):
        return True
    raise signals.PAUSE("Trigger requires manual confirmation.")


def _bounded(kind: str, at_least: int | float | None, at_most: int | float | None) -> Trigger:
    def check(upstream_states: Mapping[Any, State]) -> bool:
        states = list(upstream_states.values())
        if not states:
            return True  # a root task runs, as in Prefect 1: there is nothing to count
        total = len(states)
        n = sum(1 for s in states if (s.is_successful() if kind == "successful" else s.is_failed()))
        lo = _absolute(at_least, total)
        hi = _absolute(at_most, total)
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            raise signals.TRIGGERFAIL(
                f'Trigger was "some_{kind}" (at_least={at_least}, at_most={at_most}) but '
                f"{n} of {total} upstream tasks were {kind}."
            )
        return True

    check.__name__ = f"some_{kind}"
    return check


def _absolute(bound: int | float | None, total: int) -> float | None:
    # Below 1, a fraction of the upstream tasks, as in Prefect 1 (so 1.0 means one task).
    if bound is None:
        return None
    if 0 <= bound < 1:
        return bound * total
    return bound


def some_successful(
    at_least: int | float | None = None, at_most: int | float | None = None
) -> Trigger:
    """Run when the number (or fraction) of successful upstream tasks is within bounds."""
    return _bounded("successful", at_least, at_most)


def some_failed(at_least: int | float | None = None, at_most: int | float | None = None) -> Trigger:
    """Run when the number (or fraction) of failed upstream tasks is within bounds."""
    return _bounded("failed", at_least, at_most)
