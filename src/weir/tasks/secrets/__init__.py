"""``weir.tasks.secrets``: tasks that read secrets (Prefect 1's path)."""

from __future__ import annotations

from weir.tasks.secrets.base import PrefectSecret, SecretBase

__all__ = ["PrefectSecret", "SecretBase"]
