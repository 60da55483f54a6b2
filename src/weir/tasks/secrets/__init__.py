"""``weir.tasks.secrets``: tasks that read secrets (Prefect 1's path)."""

from __future__ import annotations

from weir.tasks.secrets.base import PrefectSecret, SecretBase
from weir.tasks.secrets.env_var import EnvVarSecret

__all__ = ["EnvVarSecret", "PrefectSecret", "SecretBase"]


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
