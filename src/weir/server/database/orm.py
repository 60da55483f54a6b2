"""The database tables, as typed SQLAlchemy 2 models.

Data model::

    project ─┬─ flow (one row per version; version group = project + name)
             │   └─ flow_run ─┬─ flow_run_state   (every state, in version order)
             │                ├─ flow_run_label   (labels, one row each: claims match on them)
             │                ├─ task_run         (its state history kept with it, as JSON)
             │                ├─ log
             │                └─ trace_event
    agent, api_key
    concurrency_limit ── concurrency_slot (one row per task-run key and limited tag)

Invariants: a run's ``version`` grows by one with every state it takes, and the
row's ``state_*`` columns always equal its newest history entry. Times are epoch
seconds (floats) so that SQLite and PostgreSQL compare and index them the same.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from weir.server.database.pg_text import clean_text_columns
from weir.state_types import StateType

# Named constraints, so that Alembic migrations can refer to them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _Json(TypeDecorator[Any]):
    """JSONB on PostgreSQL (compact, indexable); JSON text elsewhere. Python None is
    stored as SQL NULL (not the JSON text "null"), which also skips encoding it.

    JSONB is chosen when a PostgreSQL engine compiles the type, not named here with
    ``with_variant``: importing the PostgreSQL dialect package to name it was 20 ms of
    every server's start, SQLite's too.
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))


Json = _Json(none_as_null=True)
# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64 bits.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# The state vocabulary is stored by value (e.g. "Running") as plain text, so that
# adding a state later needs no database type change.
StateColumn = Enum(
    StateType,
    native_enum=False,
    create_constraint=False,
    length=20,
    values_callable=lambda enum: [member.value for member in enum],
)


#: The identity a sender may give a log line or trace event (see ``Log``).
LINE_IDENTITY = ("sender_id", "seq")


def now() -> float:
    return time.time()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: Uuid(),
        float: Double(),
        dict[str, Any]: Json,
        list[str]: Json,
        list[dict[str, Any]]: Json,
    }


class _Stamped:
    """Shared id and creation/update times; ``eager_defaults`` returns them on insert."""

    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created: Mapped[float] = mapped_column(default=now)
    updated: Mapped[float] = mapped_column(default=now, onupdate=now)


class Project(_Stamped, Base):
    __tablename__ = "project"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)


class Flow(_Stamped, Base):
    __tablename__ = "flow"
    __table_args__ = (
        UniqueConstraint("project_id", "name", "version"),
        Index(None, "project_id", "name"),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    # sha256 of the canonical JSON of what defines a version (flow, storage, executor, run config).
    fingerprint: Mapped[str] = mapped_column(String(64))
    serialized_flow: Mapped[dict[str, Any]]
    storage: Mapped[dict[str, Any] | None]
    executor: Mapped[dict[str, Any] | None]
    run_config: Mapped[dict[str, Any] | None]
    labels: Mapped[list[str]]
    description: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_active: Mapped[bool] = mapped_column(Boolean, default=True)


class FlowRun(_Stamped, Base):
    __tablename__ = "flow_run"
    __table_args__ = (
        # One run per flow and key: the scheduler's keys make it idempotent across processes.
        UniqueConstraint("flow_id", "idempotency_key"),
        # The claim query: due runs in a waiting state, oldest start first.
        Index(None, "state_type", "start_time"),
        Index(None, "flow_id", "scheduled_start_time"),
        # The runs page: newest first, paged by (created, id) as the key.
        Index(None, "created", "id"),
        # ... and the same filtered by state ("every failed run"), which is often rare.
        Index(None, "state_type", "created", "id"),
        # The retention service: finished runs by their end, oldest first (and the
        # dashboard's newest failures).
        Index(None, "ended_at"),
        # The runs page filtered by flow, newest first, paged by key.
        Index(None, "flow_id", "created", "id"),
    )

    flow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flow.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    parameters: Mapped[dict[str, Any]]
    context: Mapped[dict[str, Any] | None]
    labels: Mapped[list[str]]
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    auto_scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the run was meant to start (its schedule slot); never changes.
    scheduled_start_time: Mapped[float]
    # When the run is next due (moves with retries and reschedules).
    start_time: Mapped[float]
    state_type: Mapped[StateType] = mapped_column(StateColumn)
    state_message: Mapped[str | None] = mapped_column(Text)
    state_timestamp: Mapped[float]
    state_data: Mapped[dict[str, Any] | None]
    version: Mapped[int] = mapped_column(default=1)
    run_count: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[float | None]
    ended_at: Mapped[float | None]
    heartbeat: Mapped[float | None]
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent.id", ondelete="SET NULL"))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    lazarus_count: Mapped[int] = mapped_column(default=0)
    # Grows by one at every claim; a process writes only while it holds the current one
    # (see weir.server.models.attempts). The server default fills rows made before 0006.
    attempt: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # The run (and its task run) that started this one (``create_flow_run`` in a flow);
    # no foreign key (see migration 0009): a deleted parent leaves a dangling id.
    parent_flow_run_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    parent_task_run_id: Mapped[uuid.UUID | None]


class FlowRunLabel(Base):
    __tablename__ = "flow_run_label"

    flow_run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("flow_run.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(200), primary_key=True)


class FlowRunState(Base):
    __tablename__ = "flow_run_state"
    __table_args__ = (UniqueConstraint("flow_run_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flow_run.id", ondelete="CASCADE"))
    version: Mapped[int]
    type: Mapped[StateType] = mapped_column(StateColumn)
    message: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[float]
    start_time: Mapped[float | None]
    run_count: Mapped[int | None]
    data: Mapped[dict[str, Any] | None]


class TaskRun(_Stamped, Base):
    __tablename__ = "task_run"
    __table_args__ = (UniqueConstraint("flow_run_id", "task_slug", "map_index"),)

    flow_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flow_run.id", ondelete="CASCADE"))
    task_slug: Mapped[str] = mapped_column(String(500))
    map_index: Mapped[int] = mapped_column(default=-1)
    state_type: Mapped[StateType] = mapped_column(StateColumn)
    state_message: Mapped[str | None] = mapped_column(Text)
    state_timestamp: Mapped[float]
    state_start_time: Mapped[float | None]
    state_run_count: Mapped[int | None]
    state_data: Mapped[dict[str, Any] | None]
    version: Mapped[int] = mapped_column(default=1)
    # Every state the task run took, oldest first: ``{"version", "state", "submitted"?}``
    # per entry. A task run takes a handful of states and they are always read
    # together, so they live in its row: the engine's batches write one row per
    # task run instead of one per state (see models/task_runs.py).
    history: Mapped[list[dict[str, Any]]]
    # When it first went Running (the engine's clock), for timelines.
    started_at: Mapped[float | None]
    # What its task's ``task_run_name`` made of its inputs (Prefect 1's task run name).
    name: Mapped[str | None] = mapped_column(String(500))


class TaskRunBatch(Base):
    """A task-run batch stored as the engine sent it, until it is written into task runs.

    See ``models/task_run_batches.py``: the row lives from the batch's answer to the
    next read of task runs (or the server's writer thread), whichever comes first.
    """

    __tablename__ = "task_run_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: When the server took the batch (its refused items are logged at this time).
    received: Mapped[float]
    #: The request body, JSON, already validated.
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Log(Base):
    __tablename__ = "log"
    __table_args__ = (
        Index(None, "flow_run_id", "id"),
        # A line sent again (its batch's answer was lost) is skipped; lines without an
        # identity are NULL here, and NULLs never collide in a unique index.
        Index(None, *LINE_IDENTITY, unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flow_run.id", ondelete="CASCADE"))
    task_run_id: Mapped[uuid.UUID | None]
    task_slug: Mapped[str | None] = mapped_column(String(500))
    map_index: Mapped[int | None]
    timestamp: Mapped[float]
    level: Mapped[int]
    name: Mapped[str] = mapped_column(String(500))
    message: Mapped[str] = mapped_column(Text)
    sender_id: Mapped[uuid.UUID | None]
    seq: Mapped[int | None] = mapped_column(BigInteger)


class TraceEvent(Base):
    __tablename__ = "trace_event"
    __table_args__ = (
        Index(None, "flow_run_id", "timestamp"),
        Index(None, *LINE_IDENTITY, unique=True),  # as for log lines
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flow_run.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(200))
    timestamp: Mapped[float]
    task_slug: Mapped[str | None] = mapped_column(String(500))
    map_index: Mapped[int | None]
    data: Mapped[dict[str, Any]]
    sender_id: Mapped[uuid.UUID | None]
    seq: Mapped[int | None] = mapped_column(BigInteger)


class Agent(_Stamped, Base):
    __tablename__ = "agent"

    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(100))
    labels: Mapped[list[str]]
    last_heartbeat: Mapped[float | None]
    # When the agent said it stopped (cleared by its next heartbeat); None while it runs.
    stopped_at: Mapped[float | None]


class ApiKey(_Stamped, Base):
    __tablename__ = "api_key"

    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    # The key's public prefix finds the row; only the sha256 of the whole key is kept.
    prefix: Mapped[str] = mapped_column(String(40), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Secret(_Stamped, Base):
    """A named secret; its value is kept only encrypted (see weir.server.database.secret_box)."""

    __tablename__ = "secret"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    # A Fernet token of the value's JSON: text, and useless without the key.
    value: Mapped[str] = mapped_column(Text)


class ConcurrencyLimit(_Stamped, Base):
    """At most ``limit`` task runs carrying ``tag`` run at once, across all flow runs."""

    __tablename__ = "concurrency_limit"

    tag: Mapped[str] = mapped_column(String(200), unique=True)
    # "limit" is an SQL keyword; the column is named for what it counts.
    limit: Mapped[int] = mapped_column("slot_limit", Integer)


class ConcurrencySlot(Base):
    """A slot of a tag's limit held by one task run (its key) of one flow run."""

    __tablename__ = "concurrency_slot"
    # Slots are counted by tag and released by flow run (the key leads the primary key).
    __table_args__ = (Index(None, "tag"), Index(None, "flow_run_id"))

    task_run_key: Mapped[str] = mapped_column(String(500), primary_key=True)
    tag: Mapped[str] = mapped_column(
        ForeignKey("concurrency_limit.tag", ondelete="CASCADE"), primary_key=True
    )
    flow_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flow_run.id", ondelete="CASCADE"))
    acquired: Mapped[float]


# Every text column, those added later too: NUL cleaned on the way into PostgreSQL.
clean_text_columns(Base.metadata)
