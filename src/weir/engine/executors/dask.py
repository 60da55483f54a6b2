"""Prefect 1's ``prefect.engine.executors.dask``: weir's Dask executors under it."""

from __future__ import annotations

from typing import Any

__all__ = ["DaskExecutor", "LocalDaskExecutor"]  # noqa: F822


def __getattr__(name: str) -> Any:
    # Dask loads on first use, as in weir.executors.
    import weir.executors

    if name in __all__:
        return getattr(weir.executors, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
