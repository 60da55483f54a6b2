"""Fixtures shared by the whole suite.

``executor`` runs a test body once per executor that shares the engine's
contract. The process and Dask executors join this list when their tests can
afford the start-up cost; keep it the one place that names them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from weir.engine.cache import CACHE
from weir.executors import Executor, LocalExecutor, ThreadExecutor

#: name -> factory, in the order the parametrized ids appear.
EXECUTORS: dict[str, Callable[[], Executor]] = {
    "local": LocalExecutor,
    "threads": lambda: ThreadExecutor(max_workers=4),
}


@pytest.fixture(params=list(EXECUTORS))
def executor(request: pytest.FixtureRequest) -> Executor:
    """A fresh executor of each kind in EXECUTORS."""
    return EXECUTORS[request.param]()


@pytest.fixture
def clean_cache() -> Iterator[None]:
    """An empty in-process result cache before and after the test."""
    CACHE.clear()
    yield
    CACHE.clear()
