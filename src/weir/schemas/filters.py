"""Query parameters of the list endpoints (filters and pagination)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from weir.engine.state import StateType


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=2**31 - 1)


class FlowFilter(Page):
    project: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    include_archived: bool = False
    #: Also each flow's serialized graph (large for big flows; one flow: ``GET /flows/{id}``).
    full: bool = False


class FlowRunFilter(Page):
    """Flow runs by flow, state and time (``start_*``: the scheduled start, seconds)."""

    flow_id: list[UUID] = Field(default_factory=list, max_length=100)
    flow_name: str | None = Field(default=None, max_length=200)
    project: str | None = Field(default=None, max_length=200)
    state: list[StateType] = Field(default_factory=list, max_length=20)
    start_after: float | None = Field(default=None, ge=0, le=1e11)
    start_before: float | None = Field(default=None, ge=0, le=1e11)
    created_after: float | None = Field(default=None, ge=0, le=1e11)
    created_before: float | None = Field(default=None, ge=0, le=1e11)
    #: Runs whose id starts with these hex digits (dashes ignored), as git takes short hashes.
    id_prefix: str | None = Field(
        default=None, min_length=1, max_length=36, pattern=r"^[0-9a-fA-F-]+$"
    )
    #: The run with this name (names are not unique: several may match).
    name: str | None = Field(default=None, min_length=1, max_length=200)
    #: Runs started by this run (its child runs, in a flow of flows).
    parent_flow_run_id: UUID | None = None
    newest_first: bool = True
    #: Also each run's parameters and context (one run: ``GET /flow_runs/{id}``).
    full: bool = False


class LogFilter(BaseModel):
    """Logs of one flow run after ``after_id`` (the cursor a follower keeps)."""

    model_config = ConfigDict(extra="forbid")

    task_run_id: UUID | None = None
    after_id: int = Field(default=0, ge=0, le=2**62)
    min_level: int = Field(default=0, ge=0, le=100)
    limit: int = Field(default=1000, ge=1, le=10_000)
