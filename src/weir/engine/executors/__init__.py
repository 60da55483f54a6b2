"""Prefect 1's older ``prefect.engine.executors`` path: weir's executors under it.

``from prefect.engine.executors import LocalDaskExecutor`` still appears in flows
written before executors moved to ``prefect.executors``; with ``prefect`` changed
to ``weir`` it imports the executors of :mod:`weir.executors`.
"""

from __future__ import annotations

from typing import Any

from weir.executors import Executor, LocalExecutor

__all__ = ["DaskExecutor", "Executor", "LocalDaskExecutor", "LocalExecutor"]


def __getattr__(name: str) -> Any:
    # DaskExecutor and LocalDaskExecutor load dask on first use, as in weir.executors.
    import weir.executors

    return getattr(weir.executors, name)
