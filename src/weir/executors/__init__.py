"""Executors run task runs: inline, on threads, on processes or on a Dask cluster."""

from __future__ import annotations

from typing import Any

from weir.executors.base import Executor, TaskTimeoutError
from weir.executors.local import LocalExecutor
from weir.executors.threads import ThreadExecutor

__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalDaskExecutor",
    "LocalExecutor",
    "ProcessExecutor",
    "TaskTimeoutError",
    "ThreadExecutor",
]


def __getattr__(name: str) -> Any:
    # The process and Dask executors load on first use, so importing weir stays light.
    if name == "ProcessExecutor":
        from weir.executors.processes import ProcessExecutor

        return ProcessExecutor
    if name == "LocalDaskExecutor":
        from weir.executors.local_dask import LocalDaskExecutor

        return LocalDaskExecutor
    if name == "DaskExecutor":
        from weir.executors.dask import DaskExecutor

        return DaskExecutor
    from weir._submodules import submodule  # weir.executors.dask and the like

    return submodule(__name__, name)
