"""Fixtures shared by the whole suite.

``executor`` runs a test body once per executor in EXECUTORS, the one list of
executors the engine's tests run on. The process and Dask executors join it
when their tests can afford the start-up cost. Tests that watch side effects in
the test process itself (a list a task appends to, a state handler, a task that
cancels the run) take ``shared_memory_executor``: the same list, less the
executors whose tasks run in other processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from weir.engine.cache import CACHE
from weir.executors import Executor, LocalExecutor, ThreadExecutor

#: name -> (executor class, keyword arguments), in the order the test ids appear.
EXECUTORS: dict[str, tuple[type[Executor], dict[str, Any]]] = {
    "local": (LocalExecutor, {}),
    "threads": (ThreadExecutor, {"max_workers": 4}),
}
SHARED_MEMORY = [name for name, (cls, _) in EXECUTORS.items() if cls.shares_memory]


def _make(name: str) -> Executor:
    cls, kwargs = EXECUTORS[name]
    return cls(**kwargs)


@pytest.fixture(params=list(EXECUTORS))
def executor(request: pytest.FixtureRequest) -> Executor:
    """A fresh executor of each kind in EXECUTORS."""
    return _make(request.param)


@pytest.fixture(params=SHARED_MEMORY)
def shared_memory_executor(request: pytest.FixtureRequest) -> Executor:
    """A fresh executor of each kind in EXECUTORS whose tasks run in this process."""
    return _make(request.param)


@pytest.fixture
def clean_cache() -> Iterator[None]:
    """An empty in-process result cache before and after the test."""
    CACHE.clear()
    yield
    CACHE.clear()
