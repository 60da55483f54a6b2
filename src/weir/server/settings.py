"""Server settings, read from the environment (``WEIR_*``) with defaults that suit one machine.

Durations are seconds, except the retention, given as ``30d``, ``12h`` or ``90m``.
The limits (body size, batch items, host names) are checked by
``weir.server.gate`` before a request reaches its route.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from weir.exceptions import ConfigurationError


def weir_home() -> Path:
    return Path(os.environ.get("WEIR_HOME", "~/.weir")).expanduser()


def private_home() -> Path:
    """WEIR_HOME, made 0700 if it is new (it holds the database and ``weir up``'s key).

    One that exists keeps the mode its owner gave it: it may be shared on purpose.
    """
    home = weir_home()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


def default_database_url() -> str:
    return f"sqlite:///{weir_home() / 'weir.db'}"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}.")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number of seconds, not {value!r}.") from exc


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigurationError(f"{name} must be a whole number above 0, not {value!r}.")
    return number


def _env_names(name: str) -> tuple[str, ...]:
    """A comma-separated list of names (empty when unset)."""
    return tuple(n.strip().lower() for n in os.environ.get(name, "").split(",") if n.strip())


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


def _env_duration(name: str) -> float | None:
    value = os.environ.get(name)
    return parse_duration(value, name=name) if value else None


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
    #: A claim with nothing to take checks again this often while it waits.
    claim_poll_seconds: float = 0.25
    #: The longest a claim may wait for work (keep it under proxies' idle timeouts).
    max_claim_wait: float = 60.0
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    lazarus: LazarusSettings = field(default_factory=LazarusSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)

    @classmethod
    def from_env(cls) -> ServerSettings:
        return cls(
            database_url=os.environ.get("WEIR_DATABASE_URL") or default_database_url(),
            database_schema=os.environ.get("WEIR_DATABASE_SCHEMA") or None,
            auth=_env_bool("WEIR_SERVER_AUTH", False),
            allowed_hosts=LOOPBACK_HOSTS + _env_names("WEIR_SERVER_ALLOWED_HOSTS"),
            max_body_bytes=_env_int("WEIR_SERVER_MAX_BODY_BYTES", MAX_BODY_BYTES),
            max_batch_items=_env_int("WEIR_SERVER_MAX_BATCH_ITEMS", MAX_BATCH_ITEMS),
            claim_poll_seconds=_env_float("WEIR_CLAIM_POLL_SECONDS", 0.25),
            scheduler=SchedulerSettings(
                max_runs=int(_env_float("WEIR_SCHEDULER_MAX_RUNS", 10)),
                horizon=_env_float("WEIR_SCHEDULER_HORIZON", 7 * 24 * 3600.0),
                loop_seconds=_env_float("WEIR_SCHEDULER_LOOP_SECONDS", 5.0),
            ),
            lazarus=LazarusSettings(
                heartbeat_timeout=_env_float("WEIR_LAZARUS_HEARTBEAT_TIMEOUT", 30.0),
                submitted_timeout=_env_float("WEIR_LAZARUS_SUBMITTED_TIMEOUT", 30.0),
                max_reschedules=int(_env_float("WEIR_LAZARUS_MAX_RESCHEDULES", 3)),
                loop_seconds=_env_float("WEIR_LAZARUS_LOOP_SECONDS", 5.0),
            ),
            retention=RetentionSettings(
                retention=_env_duration("WEIR_SERVER_RETENTION"),
                loop_seconds=_env_float("WEIR_RETENTION_LOOP_SECONDS", 300.0),
            ),
        )
