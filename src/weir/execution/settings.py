"""The flow-run process's environment variables (``weir execute flow-run``).

An agent sets the first two for each process it starts; the others tune it.

``WEIR_FLOW_RUN_ATTEMPT``     the attempt the process writes as (see ``flow_run``)
``WEIR_HEARTBEAT_SECONDS``    seconds between heartbeats (5)
``WEIR_MAX_LOCAL_RETRY_WAIT`` a task retry due later than this many seconds ends the
                              process, for the server to start the run again then (10)
``WEIR_LOG_LEVEL``            the process's log level (INFO)

The server's address and key come from the client's settings (``WEIR_API_URL``,
``WEIR_API_KEY``).
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from weir.exceptions import ConfigurationError


class FlowRunSettings(BaseSettings):
    """Unset or empty, a variable leaves its default; made anew where needed (cheap)."""

    model_config = SettingsConfigDict(env_prefix="WEIR_", env_ignore_empty=True, extra="ignore")

    #: Text, checked by ``flow_run._attempt``, whose error says what the variable is for.
    flow_run_attempt: str = ""
    heartbeat_seconds: float = 5.0
    max_local_retry_wait: float = 10.0
    log_level: str = "INFO"

    @classmethod
    def read(cls) -> FlowRunSettings:
        try:
            return cls()
        except ValidationError as exc:
            [error, *_] = exc.errors()
            name = f"WEIR_{str(error['loc'][0]).upper()}"
            raise ConfigurationError(
                f"{name} must be a number of seconds, not {error['input']!r}."
            ) from None
