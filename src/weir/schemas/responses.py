"""Response bodies of the REST API (what the server answers)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from weir.schemas.actions import Role
from weir.schemas.states import StateData
from weir.state_types import StateType


class _Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Health(_Response):
    status: str
    database: str
    version: str
    #: Whether this server process runs the services: leader, follower or off.
    services: str | None = None
    #: This server's retention (seconds; None keeps every run). The leader's is the one
    #: in force: a follower that takes over applies its own, so give every server one.
    retention: float | None = None


class Project(_Response):
    id: UUID
    name: str
    description: str | None
    created: float


class FlowSummary(_Response):
    """A flow version as lists show it: everything but its serialized graph."""

    id: UUID
    project_id: UUID
    project: str
    name: str
    version: int
    version_group: str
    archived: bool
    schedule_active: bool
    has_schedule: bool
    labels: list[str]
    storage: dict[str, Any] | None
    executor: dict[str, Any] | None
    run_config: dict[str, Any] | None
    description: str | None
    created: float


class Flow(FlowSummary):
    """A flow version with its serialized graph (tasks, edges, parameters, schedule)."""

    serialized_flow: dict[str, Any]


class FlowRegistered(_Response):
    """The flow version the registration ended on, and whether it is new."""

    flow: Flow
    created: bool


class FlowRunSummary(_Response):
    """A flow run as lists show it: everything but its parameters and context."""

    id: UUID
    flow_id: UUID
    flow_name: str
    flow_version: int
    name: str
    labels: list[str]
    idempotency_key: str | None
    state: StateData
    version: int
    scheduled_start_time: float
    start_time: float
    started_at: float | None
    ended_at: float | None
    heartbeat: float | None
    agent_id: UUID | None
    cancel_requested: bool
    auto_scheduled: bool
    lazarus_count: int
    #: Grows by one at every claim: only the process started for the current attempt
    #: may write the run's states (0 until the run is first claimed).
    attempt: int = 0
    #: The run (and its task run) that started this one, in a flow of flows.
    parent_flow_run_id: UUID | None = None
    parent_task_run_id: UUID | None = None
    created: float
    updated: float


class FlowRun(FlowRunSummary):
    """A flow run with its parameters and context (what its process runs with)."""

    parameters: dict[str, Any]
    context: dict[str, Any] | None


class FlowRunWithFlow(FlowRun):
    """A flow run with its flow version's summary: what its process reads to start
    (``GET /flow_runs/{id}?with_flow=true``), in one request instead of two."""

    #: None from a server that does not know ``with_flow``: read the flow on its own.
    flow: FlowSummary | None = None


class StateWritten(_Response):
    """A state write was applied; ``version`` is the run's new version."""

    id: UUID
    version: int
    state: StateData


class StateHistoryItem(_Response):
    version: int
    state: StateData


class TaskRun(_Response):
    id: UUID
    flow_run_id: UUID
    task_slug: str
    map_index: int
    state: StateData
    version: int
    created: float
    updated: float
    #: What its task's ``task_run_name`` made (None for a task without one).
    name: str | None = None


class TaskRunWritten(_Response):
    """The outcome of one item of a task-run batch, in the order sent."""

    task_slug: str
    map_index: int
    flow_run_id: UUID
    accepted: bool
    task_run_id: UUID | None = None
    version: int | None = None
    state_type: StateType | None = None
    reason: str | None = None


class Log(_Response):
    id: int
    flow_run_id: UUID
    task_run_id: UUID | None
    task_slug: str | None
    map_index: int | None
    timestamp: float
    level: int
    name: str
    message: str


class LogPage(_Response):
    """A page of logs; ask again with ``after_id=next_after_id`` to follow."""

    logs: list[Log]
    next_after_id: int


class TraceEvent(_Response):
    """One step of a run. ``id`` is None for the task events read off task-run
    state histories (task_submitted, task_started, task_finished)."""

    id: int | None
    flow_run_id: UUID
    kind: str
    timestamp: float
    task_slug: str | None
    map_index: int | None
    data: dict[str, Any]


class Heartbeat(_Response):
    cancel: bool


class Agent(_Response):
    id: UUID
    name: str
    type: str
    labels: list[str]
    last_heartbeat: float | None
    #: When it said it stopped; None while it runs (or if it died without saying so).
    stopped_at: float | None = None
    created: float


class Count(_Response):
    count: int


class ApiKey(_Response):
    id: UUID
    name: str
    role: Role
    prefix: str
    created: float
    revoked: bool


class ApiKeyCreated(ApiKey):
    """The key itself is shown once, here, and never again."""

    key: str


class ConcurrencyLimit(_Response):
    """A tag's limit and how many of its slots task runs hold now."""

    tag: str
    limit: int
    active_slots: int
    created: float
    updated: float


class SlotsGranted(_Response):
    """``granted``: the task run may start; else ``blocked`` names the tags with no free slot."""

    granted: bool
    blocked: list[str] = []


class SecretInfo(_Response):
    """A secret as list routes show it: its name and times, never its value."""

    name: str
    created: float
    updated: float


class SecretValue(_Response):
    """One secret's value, for a run that reads it (agent and admin keys only)."""

    name: str
    value: Any


class Backfilled(_Response):
    """What a backfill did: runs made, and runs of the window that existed already."""

    created: int
    existing: int
