"""Request bodies of the REST API (what a client sends)."""

from __future__ import annotations

import datetime as _dt
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from weir.schemas.states import StateData

Name = Annotated[str, Field(min_length=1, max_length=200)]
Label = Annotated[str, Field(min_length=1, max_length=200)]
Slug = Annotated[str, Field(min_length=1, max_length=500)]
#: A task run's name, as its task's ``task_run_name`` made it (Prefect 1's task run name).
TASK_RUN_NAME_LENGTH = 500
TaskRunName = Annotated[str, Field(max_length=TASK_RUN_NAME_LENGTH)]


def _epoch(value: Any) -> Any:
    """A datetime as seconds since the epoch (a naive one read as UTC, as weir shows
    times); anything else as it is, for the float check."""
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
        return aware.timestamp()
    return value


#: A time, as seconds since the epoch; a datetime given in Python is taken too (Prefect
#: 1's clients took pendulum datetimes).
Seconds = Annotated[float, BeforeValidator(_epoch), Field(ge=0, le=1e11)]
MapIndex = Annotated[int, Field(ge=-1, le=2**31 - 1)]
Version = Annotated[int, Field(ge=0, le=2**62)]
# A line's number among its sender's lines (a 64-bit column).
Seq = Annotated[int, Field(ge=0, le=2**63 - 1)]

#: The request header a flow-run process sends its attempt in (see ``FlowRun.attempt``):
#: the server refuses state writes, heartbeats and task-run batches of an older attempt
#: with 409 and ``"field": "attempt"``. Writers that are not a run's process send none.
ATTEMPT_HEADER = "X-Weir-Attempt"


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectCreate(_Action):
    name: Name
    description: str | None = Field(default=None, max_length=10_000)


class FlowCreate(_Action):
    """Register a flow: a new version when anything in it changed since the last."""

    serialized_flow: dict[str, Any]
    project: Name = "default"
    labels: list[Label] = Field(default_factory=list, max_length=100)
    storage: dict[str, Any] | None = None
    executor: dict[str, Any] | None = None
    run_config: dict[str, Any] | None = None
    description: str | None = Field(default=None, max_length=10_000)
    #: As in Prefect 1: equal to the latest version's key, no new version is made even
    #: if the flow changed; a different key makes one even if it did not.
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _has_name(self) -> FlowCreate:
        name = self.serialized_flow.get("name")
        if not isinstance(name, str) or not name or len(name) > 200:
            raise ValueError(
                "serialized_flow.name must be a non-empty string of at most 200 characters; "
                "send the output of Flow.serialize()."
            )
        return self


class FlowUpdate(_Action):
    """Archive a flow version or turn its schedule on or off."""

    archived: bool | None = None
    schedule_active: bool | None = None


class FlowBackfill(_Action):
    """Make the runs the flow's schedule has between ``start`` and ``end`` (seconds)."""

    start: Seconds
    end: Seconds


class FlowRunCreate(_Action):
    """Create a flow run, by flow id or by flow name (latest version)."""

    flow_id: UUID | None = None
    flow_name: Name | None = None
    project: Name | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    name: Name | None = None
    labels: list[Label] | None = Field(default=None, max_length=100)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    scheduled_start_time: Seconds | None = None
    context: dict[str, Any] | None = None
    #: The run that starts this one (a flow of flows), and its task run that did it.
    parent_flow_run_id: UUID | None = None
    parent_task_run_id: UUID | None = None

    @model_validator(mode="after")
    def _names_a_flow(self) -> FlowRunCreate:
        if self.flow_id is None and self.flow_name is None:
            raise ValueError("Give flow_id or flow_name to say which flow to run.")
        if self.flow_id is not None and self.flow_name is not None:
            # Which would win is a guess the caller should not have to make.
            raise ValueError(
                "Give flow_id, or flow_name (with project), not both: flow_id names one "
                "version, flow_name the latest version of a flow."
            )
        return self


class SetState(_Action):
    """Move a run to ``state``; ``version`` must be the run's current version."""

    state: StateData
    version: Version


class TaskRunUpsert(_Action):
    """One task run's new states in a batch; the task run is created on first sight.

    Give one ``state``, or ``states`` (oldest first: what the task run went
    through since it was last reported, e.g. Running then Success). The states
    are applied in order and the item is accepted whole or not at all.
    ``version``, when given, must be the task run's version before the first.
    ``submitted`` is when the engine handed the task run to its executor, just
    before the first of these states (the trace shows it as ``task_submitted``).
    ``name``, when given, is the name the task's ``task_run_name`` made for this
    run of it; an item without one leaves the task run's name as it was.
    """

    flow_run_id: UUID
    task_slug: Slug
    map_index: MapIndex = -1
    state: StateData | None = None
    states: list[StateData] | None = Field(default=None, min_length=1, max_length=1000)
    version: Version | None = None
    submitted: Seconds | None = None
    name: TaskRunName | None = None

    @model_validator(mode="after")
    def _one_of_state_or_states(self) -> TaskRunUpsert:
        if (self.state is None) == (self.states is None):
            raise ValueError("Give either state (one state) or states (a list), not both.")
        return self

    def new_states(self) -> list[StateData]:
        """The states to apply, oldest first."""
        return self.states if self.states is not None else [self.state]  # type: ignore[list-item]


class LogCreate(_Action):
    flow_run_id: UUID
    task_run_id: UUID | None = None
    task_slug: Slug | None = None
    map_index: MapIndex | None = None
    timestamp: Seconds
    level: int = Field(default=20, ge=0, le=100)
    name: str = Field(default="weir", max_length=500)
    message: str = Field(max_length=1_000_000)
    #: The line's identity, optional: a line whose (sender_id, seq) is already stored is
    #: skipped, so a batch sent again after a lost answer is stored once. A sender (one
    #: reporter, one process) takes a new uuid and numbers its lines from 0.
    sender_id: UUID | None = None
    seq: Seq | None = None


class TraceEventCreate(_Action):
    flow_run_id: UUID
    kind: str = Field(min_length=1, max_length=200)
    timestamp: Seconds
    task_slug: Slug | None = None
    map_index: MapIndex | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    #: The event's identity, optional (as for log lines).
    sender_id: UUID | None = None
    seq: Seq | None = None


class AgentCreate(_Action):
    name: Name
    labels: list[Label] = Field(default_factory=list, max_length=100)
    type: str = Field(default="local", min_length=1, max_length=100)


class LiveRun(_Action):
    """A flow run whose process an agent sees alive: its id and the attempt it runs."""

    id: UUID
    attempt: int = Field(ge=0, le=2**31 - 1)


class AgentHeartbeat(_Action):
    """An agent's heartbeat: the runs whose processes it sees alive, which are alive
    too (their own heartbeats may be starved: a task holding the GIL for a minute)."""

    runs: list[LiveRun] = Field(default_factory=list, max_length=10_000)


class Claim(_Action):
    """Ask for due runs whose labels are all among ``labels``; wait up to ``wait`` seconds."""

    labels: list[Label] = Field(default_factory=list, max_length=100)
    agent_id: UUID | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    wait: float = Field(default=0.0, ge=0, le=60)
    #: The agent's trace events to record first (its last pass's ``process_launched``):
    #: they ride on the claim it sends next instead of a request of their own.
    trace: list[TraceEventCreate] = Field(default_factory=list, max_length=1000)


class ClaimedRuns(_Action):
    """Runs an agent looks at in one read (those whose processes ended in one pass)."""

    flow_run_ids: list[UUID] = Field(min_length=1, max_length=1000)
    #: Trace events to record before the runs are read (their ``process_exited``).
    trace: list[TraceEventCreate] = Field(default_factory=list, max_length=1000)


class Role(str, Enum):
    """What an API key may do: admin everything, agent read and write runs, read_only read."""

    ADMIN = "admin"
    AGENT = "agent"
    READ_ONLY = "read_only"


class ApiKeyCreate(_Action):
    name: Name
    role: Role = Role.AGENT


Tag = Annotated[str, Field(min_length=1, max_length=200)]


class ConcurrencyLimitSet(_Action):
    """At most ``limit`` task runs with the tag run at once (0 holds them all back)."""

    limit: int = Field(ge=0, le=1_000_000)


class SlotAcquire(_Action):
    """Ask for one slot of every limited tag in ``tags`` for the task run ``task_run_key``.

    All or nothing; asking again with the same key is granted without taking more.
    """

    tags: list[Tag] = Field(max_length=100)
    task_run_key: Slug
    flow_run_id: UUID


class SlotRelease(_Action):
    """Give back every slot the task run ``task_run_key`` holds."""

    task_run_key: Slug


class FlowRunSetState(SetState):
    """A flow run's new state, with what the run reported before it, to store first.

    ``task_runs`` are taken as a task-run batch sent with ``wait=false`` is, and
    ``logs`` and ``trace`` as their batches are, in one transaction before the
    state is written: a run's process sends its last reports and its final state
    in one request, and a refused state write loses none of them.
    """

    # Their length is the server's to limit (WEIR_SERVER_MAX_BATCH_ITEMS).
    task_runs: list[TaskRunUpsert] | None = None
    logs: list[LogCreate] | None = None
    trace: list[TraceEventCreate] | None = None


class SecretSet(_Action):
    """Set a secret: its value, any JSON (text, a number, a list, an object); at most 64 KiB."""

    value: Any

    @model_validator(mode="after")
    def _small_enough(self) -> SecretSet:
        import json

        if self.value is None:
            raise ValueError("value must not be null; `weir secret rm NAME` removes a secret.")
        if len(json.dumps(self.value)) > 65_536:
            raise ValueError("value is longer than 64 KiB as JSON; keep large values elsewhere.")
        return self
