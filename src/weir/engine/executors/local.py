"""Prefect 1's ``prefect.engine.executors.local``: weir's LocalExecutor under it."""

from __future__ import annotations

from weir.executors import LocalExecutor

__all__ = ["LocalExecutor"]
