"""States: the class hierarchy, the questions a state answers, and a refused transition."""

from __future__ import annotations

from weir.engine.state import (
    Cached,
    Failed,
    Mapped,
    Retrying,
    StateType,
    Success,
    TimedOut,
    TriggerFailed,
    check_transition,
)
from weir.exceptions import InvalidTransition

# Prefect 1's hierarchy: isinstance reads naturally.
for state in (Cached(), Mapped(), TimedOut(), TriggerFailed(), Retrying()):
    print(
        f"{state.name:<14} type={state.type.value:<14} "
        f"successful={state.is_successful()!s:<5} failed={state.is_failed()!s:<5} "
        f"finished={state.is_finished()!s:<5} scheduled={state.is_scheduled()}"
    )

# What the server stores and the API carries: the type, the message, the time.
failed = Failed("Error during execution of task: ValueError('bad row')", result=ValueError())
print({k: v for k, v in failed.to_dict().items() if k != "timestamp"})
print(isinstance(failed, Success), isinstance(TimedOut(), Failed))

# Every state change on the server goes through one table of allowed moves.
check_transition(StateType.RUNNING, StateType.SUCCESS, subject="flow run 'nightly'")
try:
    check_transition(StateType.SUCCESS, StateType.RUNNING, subject="flow run 'nightly'")
except InvalidTransition as exc:
    print(f"InvalidTransition: {exc}")
