"""Where the client finds the server and its key: arguments, then environment, then defaults."""

from __future__ import annotations

import os

DEFAULT_API_URL = "http://127.0.0.1:4200/api/v1"
#: The environment variable an agent gives a flow-run process its run's attempt in.
ATTEMPT_ENV = "WEIR_FLOW_RUN_ATTEMPT"


def api_url(given: str | None = None) -> str:
    return (given or os.environ.get("WEIR_API_URL") or DEFAULT_API_URL).rstrip("/")


def api_key(given: str | None = None) -> str | None:
    return given or os.environ.get("WEIR_API_KEY") or None
