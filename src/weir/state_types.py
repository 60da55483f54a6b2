"""The state vocabulary: the kinds of state a run can be in, the named groups of them,
and the moves allowed between them.

This is the one definition. The engine's State classes (``weir.engine.state``), the
server (database, API, write path), the schemas, the client, the CLI, the agent and
the web UI (its ``/ui/state_types.js`` is rendered from this module) all take it from
here. It is a leaf: it imports nothing of weir but ``weir.exceptions`` (itself a
leaf), so that importing it loads no engine, server or client code.

The groups follow Prefect 1.4.1's class hierarchy, where "is it X?" is an
``isinstance`` check::

    Pending ── Scheduled ──┬── Retrying          Running ── Cancelling
                           └── Paused            Submitted
    Finished ──┬── Success ── Cached, Mapped, Skipped
               ├── Failed ── TriggerFailed, TimedOut
               ├── Cancelled
               └── Looped (finished for one iteration; the run itself goes on)

Two groups are weir's own, for the server: which waiting runs an agent may claim
(:data:`CLAIMABLE_TYPES`: a Paused run waits for a person, not for a clock) and
which runs a process holds (:data:`ACTIVE_TYPES`).
"""

from __future__ import annotations

import json
from enum import Enum
from functools import cache

from weir.exceptions import InvalidTransition

__all__ = [
    "ACTIVE_TYPES",
    "ALLOWED_TRANSITIONS",
    "CLAIMABLE_TYPES",
    "DISPLAY_ORDER",
    "FAILED_TYPES",
    "FINISHED_TYPES",
    "PENDING_TYPES",
    "RESTARTABLE_TYPES",
    "RUNNING_TYPES",
    "SCHEDULED_TYPES",
    "SUCCESSFUL_TYPES",
    "UNFINISHED_TYPES",
    "UNSUCCESSFUL_TYPES",
    "StateType",
    "check_transition",
    "groups",
    "javascript",
]


class StateType(str, Enum):
    """The closed set of state kinds, shared by engine, database, API and UI."""

    PENDING = "Pending"
    SCHEDULED = "Scheduled"
    RETRYING = "Retrying"
    PAUSED = "Paused"
    SUBMITTED = "Submitted"
    RUNNING = "Running"
    CANCELLING = "Cancelling"
    SUCCESS = "Success"
    CACHED = "Cached"
    MAPPED = "Mapped"
    SKIPPED = "Skipped"
    FAILED = "Failed"
    TRIGGER_FAILED = "TriggerFailed"
    TIMED_OUT = "TimedOut"
    CANCELLED = "Cancelled"
    LOOPED = "Looped"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def _missing_(cls, value: object) -> StateType | None:
        # A state named in any case is that state (`?state=failed`, `FAILED`): people
        # type them, and no two states differ only in case.
        if isinstance(value, str):
            return _BY_LOWER.get(value.lower())
        return None


S = StateType
_BY_LOWER = {member.value.lower(): member for member in StateType}

#: Not started yet (Prefect's ``is_pending()``): Pending and its subclasses.
PENDING_TYPES: frozenset[StateType] = frozenset({S.PENDING, S.SCHEDULED, S.RETRYING, S.PAUSED})
#: Waiting for a start time (Prefect's ``is_scheduled()``): Scheduled and its subclasses.
SCHEDULED_TYPES: frozenset[StateType] = frozenset({S.SCHEDULED, S.RETRYING, S.PAUSED})
#: Waiting runs an agent may claim once their start time has come. Paused is left
#: out: it waits for someone to resume it.
CLAIMABLE_TYPES: frozenset[StateType] = PENDING_TYPES - {S.PAUSED}
#: Running (Prefect's ``is_running()``): Running and Cancelling, which still runs.
RUNNING_TYPES: frozenset[StateType] = frozenset({S.RUNNING, S.CANCELLING})
#: Held by a process: claimed (Submitted), running, or between loop iterations.
#: Such a run holds a concurrency slot and is the agent's to watch.
ACTIVE_TYPES: frozenset[StateType] = RUNNING_TYPES | {S.SUBMITTED, S.LOOPED}
#: Succeeded (Prefect's ``is_successful()``): Success and its subclasses.
SUCCESSFUL_TYPES: frozenset[StateType] = frozenset({S.SUCCESS, S.CACHED, S.MAPPED, S.SKIPPED})
#: Failed (Prefect's ``is_failed()``): Failed and its subclasses. Cancelled is not one.
FAILED_TYPES: frozenset[StateType] = frozenset({S.FAILED, S.TRIGGER_FAILED, S.TIMED_OUT})
#: Ended without success: failed or cancelled.
UNSUCCESSFUL_TYPES: frozenset[StateType] = FAILED_TYPES | {S.CANCELLED}
#: The run has ended (Prefect's ``is_finished()`` less Looped: Looped ends one
#: iteration, but the run itself goes on).
FINISHED_TYPES: frozenset[StateType] = SUCCESSFUL_TYPES | UNSUCCESSFUL_TYPES
#: Not finished: waiting, claimed, running or between loop iterations.
UNFINISHED_TYPES: frozenset[StateType] = frozenset(StateType) - FINISHED_TYPES
#: Runs that ``weir flow-run restart`` may send back to Scheduled: those that ended
#: without success. A successful run never moves again.
RESTARTABLE_TYPES: frozenset[StateType] = UNSUCCESSFUL_TYPES

#: The order in which the UI lists counts per state: what is live first, then what
#: waits, then what ended, successes before failures.
DISPLAY_ORDER: tuple[StateType, ...] = (
    *(S.RUNNING, S.SUBMITTED, S.CANCELLING),
    *(S.RETRYING, S.PENDING, S.SCHEDULED, S.PAUSED, S.LOOPED),
    *(S.SUCCESS, S.CACHED, S.MAPPED, S.SKIPPED),
    *(S.FAILED, S.TRIGGER_FAILED, S.TIMED_OUT, S.CANCELLED),
)
assert sorted(DISPLAY_ORDER) == sorted(StateType)

_BEFORE_START = PENDING_TYPES | {S.SUBMITTED, S.RUNNING, S.CANCELLED} | FINISHED_TYPES

#: The one table of allowed moves: ``ALLOWED_TRANSITIONS[from]`` holds every
#: state a run may go to next. Finished runs move only when restarted (back to
#: Scheduled/Pending), and a successful run never moves again.
ALLOWED_TRANSITIONS: dict[StateType, frozenset[StateType]] = {
    S.PENDING: _BEFORE_START,
    S.SCHEDULED: _BEFORE_START,
    S.RETRYING: _BEFORE_START,
    S.PAUSED: _BEFORE_START,
    # A claimed run may start, be handed back (Scheduled) or fail to start.
    S.SUBMITTED: frozenset({S.RUNNING, S.SCHEDULED, S.PENDING, S.CANCELLING}) | FINISHED_TYPES,
    S.RUNNING: frozenset({S.RUNNING, S.SCHEDULED, S.RETRYING, S.PAUSED, S.CANCELLING, S.LOOPED})
    | FINISHED_TYPES,
    S.CANCELLING: frozenset({S.CANCELLED, S.FAILED, S.SUCCESS, S.TIMED_OUT}),
    S.LOOPED: frozenset({S.RUNNING, S.LOOPED, S.SCHEDULED, S.RETRYING}) | FINISHED_TYPES,
    **{t: frozenset() for t in SUCCESSFUL_TYPES},
    **{t: frozenset({S.SCHEDULED, S.PENDING}) for t in RESTARTABLE_TYPES},
}
assert set(ALLOWED_TRANSITIONS) == set(StateType)


def check_transition(current: StateType | None, new: StateType, subject: str = "run") -> None:
    """Raise InvalidTransition unless ``current`` → ``new`` is in the table."""
    if current is None or new in ALLOWED_TRANSITIONS[current]:
        return
    allowed = ", ".join(sorted(t.value for t in ALLOWED_TRANSITIONS[current]))
    raise InvalidTransition(
        f"The {subject} cannot move from {current.value} to {new.value}: "
        f"from {current.value} it may only move to {allowed or 'nothing (it is final)'}."
    )


def groups() -> dict[str, list[str]]:
    """Every named group as sorted state names, keyed by its lower-case name less
    ``_TYPES`` (``"finished"``, ``"failed"``, ...): what the web UI is given."""
    found = {
        name.removesuffix("_TYPES").lower(): sorted(t.value for t in value)
        for name, value in globals().items()
        if name.endswith("_TYPES") and isinstance(value, frozenset)
    }
    found["all"] = [t.value for t in StateType]
    found["display_order"] = [t.value for t in DISPLAY_ORDER]
    return found


@cache
def javascript() -> str:
    """The groups as a script defining ``WEIR_STATE_TYPES``: what the web UI's pages and
    the page ``flow.visualize()`` draws load before their own scripts, so that no
    script keeps a copy of its own."""
    body = json.dumps(groups(), indent=1, sort_keys=True)
    return (
        "/* The state vocabulary, rendered from weir.state_types: use it, copy no list. */\n"
        f"const WEIR_STATE_TYPES = Object.freeze({body});\n"
    )
