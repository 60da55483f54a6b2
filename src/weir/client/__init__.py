"""The HTTP client of the weir server, used by the CLI, the agent and the API reporter."""

from __future__ import annotations

from weir.client.client import Client
from weir.client.settings import DEFAULT_API_URL

__all__ = ["DEFAULT_API_URL", "Client", "Secret"]


def __getattr__(name: str) -> object:
    # Prefect 1's ``prefect.client.Secret``; loaded on first use.
    if name == "Secret":
        from weir.client.secrets import Secret

        return Secret
    from weir._submodules import submodule  # weir.client.secrets and the like

    return submodule(__name__, name)
