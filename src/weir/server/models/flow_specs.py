"""The parts of a flow registration the server acts on later, checked at the door.

A flow's schedule is run by the scheduler service, its storage is read back by
the run's process, its run config by the agents; a bad value stored would fail
there, long after the registration said 201. So each is read here by the same
code that uses it later (``weir.schedules`` deserializes the schedule and gives
its next events, ``weir.storage.storage_from_dict`` reads the storage,
``weir.schemas.specs`` the run config) and a failure is an ``InvalidField``
whose ``loc`` names the field, e.g. ``["body", "serialized_flow", "schedule",
"clocks", 0, "cron"]``. Nothing is stored then: the check runs before any write.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from weir.exceptions import ScheduleError, StorageError
from weir.schemas import actions
from weir.schemas.specs import ExecutorSpec, RunConfigSpec
from weir.server.errors import InvalidField, Unprocessable
from weir.server.models import flow_runs

# weir.schedules (the clocks, croniter, dateutil, the pydantic models that deserialize a
# schedule) is imported when a schedule is first read, not when the server starts: it
# was a tenth of the server's imports, and a server with no scheduled flow never needs it.
if TYPE_CHECKING:
    from weir.schedules.events import ClockEvent

SCHEDULE_LOC = ("body", "serialized_flow", "schedule")

#: A clock's labels become its runs' labels: they must be what a run's labels may be.
RUN_LABELS: TypeAdapter[list[str]] = TypeAdapter(
    Annotated[list[actions.Label], Field(max_length=100)]
)

#: How many events the door asks a schedule for: as many as the scheduler asks by default.
PROBE_EVENTS = 10


def next_events(data: dict[str, Any], after: float, n: int) -> list[ClockEvent]:
    """A stored schedule's next ``n`` events after ``after``: what the scheduler makes runs of."""
    from weir.schedules import Schedule

    schedule = Schedule.deserialize(data)
    start = dt.datetime.fromtimestamp(after, tz=dt.timezone.utc)
    return schedule.next(n, after=start, return_events=True)  # type: ignore[no-any-return]


def check(action: actions.FlowCreate, now: float) -> None:
    """Raise InvalidField naming the first part of ``action`` that would fail when used."""
    schedule = action.serialized_flow.get("schedule")
    if schedule is not None:
        check_schedule(action.serialized_flow, schedule, now)
    if action.storage is not None:
        _check_storage(action.storage)
    _check_model(RunConfigSpec, action.run_config, ("body", "run_config"))
    _check_model(ExecutorSpec, action.executor, ("body", "executor"))


def check_schedule(serialized_flow: dict[str, Any], data: Any, now: float) -> None:
    """The schedule deserializes, gives its next runs, and each run's parameters fit."""
    from weir.schedules import Schedule
    from weir.schedules.serialize import field_path

    try:
        Schedule.deserialize(data)
    except ScheduleError as exc:
        raise InvalidField((*SCHEDULE_LOC, *field_path(exc.field or "")), str(exc)) from exc
    try:
        next_events(data, now, PROBE_EVENTS)
    except Exception as exc:  # whatever a clock raises is this schedule's fault
        raise InvalidField(
            SCHEDULE_LOC,
            f"The schedule cannot give its next run times ({type(exc).__name__}: {exc}); "
            "check its clocks' dates and intervals.",
        ) from exc
    for index, clock in enumerate(data["clocks"]):
        _check_parameters(serialized_flow, clock.get("parameter_defaults") or {}, index)
        labels = clock.get("labels")
        if labels is not None:
            loc = (*SCHEDULE_LOC, "clocks", index, "labels")
            _check_model(RUN_LABELS, labels, loc)


def _check_parameters(serialized_flow: dict[str, Any], given: dict[str, Any], index: int) -> None:
    # The scheduler creates each run with its clock's parameter defaults: they must fit.
    try:
        flow_runs.fill_parameters(serialized_flow, given)
    except Unprocessable as exc:
        loc = (*SCHEDULE_LOC, "clocks", index, "parameter_defaults")
        raise InvalidField(
            loc,
            f"Runs of this schedule's clocks[{index}] could not be created: {exc.message} "
            "Give the clock parameter_defaults for it, or a default to the Parameter.",
        ) from exc


def _check_storage(data: dict[str, Any]) -> None:
    from weir.storage import storage_from_dict

    try:
        storage_from_dict(data)
    except StorageError as exc:
        loc = ("body", "storage", exc.field) if exc.field else ("body", "storage")
        raise InvalidField(loc, str(exc)) from exc


def _check_model(
    model: type[BaseModel] | TypeAdapter[Any], data: Any, loc: tuple[str | int, ...]
) -> None:
    if data is None:
        return
    try:
        if isinstance(model, TypeAdapter):
            model.validate_python(data)
        else:
            model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidField((*loc, *first["loc"]), first["msg"]) from exc
