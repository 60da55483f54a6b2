"""The HTTP client of the weir server, used by the CLI, the agent and the API reporter."""

from __future__ import annotations

from weir.client.client import Client
from weir.client.settings import DEFAULT_API_URL

__all__ = ["DEFAULT_API_URL", "Client"]
