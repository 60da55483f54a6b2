"""Server settings, read from the environment (``WEIR_*``) with defaults that suit one machine.

Durations are seconds, except the retention, given as ``30d``, ``12h`` or ``90m``.
The limits (body size, batch items, host names) are checked by
``weir.server.gate`` before a request reaches its route.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, PositiveInt, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from weir.exceptions import ConfigurationError
from weir.utilities.home import weir_home


def private_home() -> Path:
    """WEIR_HOME, made 0700 if it is new (it holds the database and ``weir up``'s key).

    One that exists keeps the mode its owner gave it: it may be shared on purpose.
    """
    home = weir_home()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


def default_database_url() -> str:
    return f"sqlite:///{weir_home() / 'weir.db'}"


#: Host names served without being configured: this machine's loopback names only, so a
#: web page whose name resolves to 127.0.0.1 (DNS rebinding) cannot reach the API.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

#: The largest request body, in bytes, by default: a batch of the engine's (1,000 task-run
#: items, about 0.3 MB; a flow-run state carrying its last batches, about 1 MB) fits many
#: times over, and so do log lines of some length.
MAX_BODY_BYTES = 32 * 1024 * 1024

#: The most items a batch (and each list a flow-run state carries) may hold by default:
#: ten times the engine's batch of 1,000.
MAX_BATCH_ITEMS = 10_000
#: Seconds per unit of a duration: ``30d``, ``12h``, ``90m``, ``45s``, ``2w``.
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.IGNORECASE)


def parse_duration(text: str, *, name: str = "The duration") -> float:
    """``30d``, ``12h``, ``90m``, ``45s`` or ``2w`` as seconds (a unit is required)."""
    match = _DURATION.fullmatch(text)
    seconds = float(match[1]) * _UNITS[match[2].lower()] if match else 0.0
    if seconds <= 0:
        raise ConfigurationError(
            f"{name} must be a positive number with a unit (s, m, h, d or w), such as 30d, "
            f"12h or 90m, not {text!r}."
        )
    return seconds


@dataclass
class SchedulerSettings:
    #: How many future runs of each active schedule to keep in the database.
    max_runs: int = 10
    #: How far ahead to create them, seconds.
    horizon: float = 7 * 24 * 3600.0
    loop_seconds: float = 5.0


@dataclass
class LazarusSettings:
    #: A Running run whose last heartbeat is older than this is presumed dead.
    heartbeat_timeout: float = 30.0
    #: A Submitted run that has not started after this long is handed back.
    submitted_timeout: float = 30.0
    #: How many times a dead run is rescheduled before it is failed.
    max_reschedules: int = 3
    loop_seconds: float = 5.0


@dataclass
class RetentionSettings:
    #: Finished runs that ended longer ago than this (seconds) are deleted; None keeps all.
    retention: float | None = None
    loop_seconds: float = 300.0
    #: At most this many rows are deleted per transaction, so that SQLite's one writer
    #: is never held for long.
    chunk: int = 1000
    #: How many expired runs are taken at a time.
    batch: int = 100
    #: Seconds between two transactions, so that other writers get their turn.
    pause: float = 0.01


@dataclass
class ServerSettings:
    database_url: str = field(default_factory=default_database_url)
    #: PostgreSQL schema to keep weir's tables in (None: the database's default).
    database_schema: str | None = None
    auth: bool = False
    #: Host names (``Host:``) the server answers; ``*`` answers any (unsafe: see docs).
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    #: Bodies over this many bytes are refused (413) while they stream in.
    max_body_bytes: int = MAX_BODY_BYTES
    #: Batches of more items are refused (422).
    max_batch_items: int = MAX_BATCH_ITEMS
    #: A claim with nothing to take checks again this often while it waits, unless this
    #: server sees every write (SQLite with its services here: see api.work).
    claim_poll_seconds: float = 0.25
    #: The longest a claim may wait for work (keep it under proxies' idle timeouts).
    max_claim_wait: float = 60.0
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    lazarus: LazarusSettings = field(default_factory=LazarusSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)

    @classmethod
    def from_env(cls) -> ServerSettings:
        """The settings the ``WEIR_*`` variables give (see ``ServerEnvironment``)."""
        env = ServerEnvironment.read()
        retention = env.server_retention
        return cls(
            database_url=env.database_url or default_database_url(),
            database_schema=env.database_schema or None,
            auth=env.server_auth,
            allowed_hosts=LOOPBACK_HOSTS
            + tuple(n.strip().lower() for n in env.server_allowed_hosts.split(",") if n.strip()),
            max_body_bytes=env.server_max_body_bytes,
            max_batch_items=env.server_max_batch_items,
            claim_poll_seconds=env.claim_poll_seconds,
            scheduler=SchedulerSettings(
                max_runs=int(env.scheduler_max_runs),
                horizon=env.scheduler_horizon,
                loop_seconds=env.scheduler_loop_seconds,
            ),
            lazarus=LazarusSettings(
                heartbeat_timeout=env.lazarus_heartbeat_timeout,
                submitted_timeout=env.lazarus_submitted_timeout,
                max_reschedules=int(env.lazarus_max_reschedules),
                loop_seconds=env.lazarus_loop_seconds,
            ),
            retention=RetentionSettings(
                retention=parse_duration(retention, name="WEIR_SERVER_RETENTION")
                if retention
                else None,
                loop_seconds=env.retention_loop_seconds,
            ),
        )


_SECONDS = "a number of seconds"
_ABOVE_0 = "a whole number above 0"


class ServerEnvironment(BaseSettings):
    """The server's environment variables: each field is ``WEIR_`` + its name in capitals.

    Unset or empty, a variable leaves its default. A value that does not fit raises
    ConfigurationError naming the variable (see :meth:`read`). Read anew at each
    call, so that a variable set since counts.
    """

    model_config = SettingsConfigDict(env_prefix="WEIR_", env_ignore_empty=True, extra="ignore")

    database_url: str | None = Field(None, description="a database URL")
    database_schema: str | None = Field(None, description="a schema name")
    server_auth: bool = Field(False, description="true or false")
    #: Comma-separated host names, besides the loopback ones.
    server_allowed_hosts: str = Field("", description="host names, comma-separated")
    server_max_body_bytes: PositiveInt = Field(MAX_BODY_BYTES, description=_ABOVE_0)
    server_max_batch_items: PositiveInt = Field(MAX_BATCH_ITEMS, description=_ABOVE_0)
    claim_poll_seconds: float = Field(0.25, description=_SECONDS)
    scheduler_max_runs: float = Field(10, description="a number")
    scheduler_horizon: float = Field(7 * 24 * 3600.0, description=_SECONDS)
    scheduler_loop_seconds: float = Field(5.0, description=_SECONDS)
    lazarus_heartbeat_timeout: float = Field(30.0, description=_SECONDS)
    lazarus_submitted_timeout: float = Field(30.0, description=_SECONDS)
    lazarus_max_reschedules: float = Field(3, description="a number")
    lazarus_loop_seconds: float = Field(5.0, description=_SECONDS)
    #: A duration with its unit (``30d``), parsed by ``parse_duration``.
    server_retention: str | None = Field(None, description="a duration such as 30d")
    retention_loop_seconds: float = Field(300.0, description=_SECONDS)

    @classmethod
    def read(cls) -> ServerEnvironment:
        try:
            return cls()
        except ValidationError as exc:
            raise ConfigurationError(_explain(cls, exc)) from None


def _explain(model: type[BaseSettings], exc: ValidationError) -> str:
    """A settings model's validation errors as sentences naming each variable."""
    prefix = model.model_config.get("env_prefix", "")
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0])
        what = model.model_fields[name].description or "valid"
        lines.append(f"{prefix}{name.upper()} must be {what}, not {error['input']!r}.")
    return " ".join(lines)
