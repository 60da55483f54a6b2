"""Server settings, read from the environment (``WEIR_*``) with defaults that suit one machine.

Durations are seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from weir.exceptions import ConfigurationError


def weir_home() -> Path:
    return Path(os.environ.get("WEIR_HOME", "~/.weir")).expanduser()


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
class ServerSettings:
    database_url: str = field(default_factory=default_database_url)
    #: PostgreSQL schema to keep weir's tables in (None: the database's default).
    database_schema: str | None = None
    auth: bool = False
    #: A claim with nothing to take checks again this often while it waits.
    claim_poll_seconds: float = 0.25
    #: The longest a claim may wait for work (keep it under proxies' idle timeouts).
    max_claim_wait: float = 60.0
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    lazarus: LazarusSettings = field(default_factory=LazarusSettings)

    @classmethod
    def from_env(cls) -> ServerSettings:
        return cls(
            database_url=os.environ.get("WEIR_DATABASE_URL") or default_database_url(),
            database_schema=os.environ.get("WEIR_DATABASE_SCHEMA") or None,
            auth=_env_bool("WEIR_SERVER_AUTH", False),
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
        )
