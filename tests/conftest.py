"""Fixtures shared by the whole suite.

``executor`` runs a test body once per executor in EXECUTORS, the one list of
executors the engine's tests run on: inline, threads, processes, and a real
Dask ``LocalCluster`` (2 workers) started once per session. Tests that watch side effects in
the test process itself (a list a task appends to, a state handler, a task that
cancels the run) take ``shared_memory_executor``: the same list, less the
executors whose tasks run in other processes.

Every test session gets a WEIR_HOME of its own in a temporary directory: no test
writes into the developer's ``~/.weir``, and parallel workers (``pytest -n``) never
share one. ``wait_until`` (``weir.utilities.waiting``) is how a test waits for
something to hold. Markers: ``slow`` (seconds each; ``pytest -m "not slow"`` is the
quick loop) and ``integration`` (real processes or services beside the test).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from weir.engine.cache import CACHE
from weir.executors import (
    DaskExecutor,
    Executor,
    LocalExecutor,
    ProcessExecutor,
    ThreadExecutor,
)

#: name -> (executor class, keyword arguments), in the order the test ids appear.
#: The Dask executor connects to the session's cluster (its address is filled in).
EXECUTORS: dict[str, tuple[type[Executor], dict[str, Any]]] = {
    "local": (LocalExecutor, {}),
    "threads": (ThreadExecutor, {"max_workers": 4}),
    "processes": (ProcessExecutor, {"max_workers": 2}),
    "dask": (DaskExecutor, {}),
}
SHARED_MEMORY = [name for name, (cls, _) in EXECUTORS.items() if cls.shares_memory]

#: A test taking one of these fixtures starts processes beside it (``weir execute``, an
#: agent and the runs it launches, a container engine, a browser): it is ``integration``
#: without saying so itself. Modules that start their own processes mark themselves.
#: Every integration test is ``slow`` too: starting a process alone takes a second.
INTEGRATION_FIXTURES = frozenset({"harness", "make_agent", "engine", "browser", "page"})

_SESSION_HOME: str | None = None


@pytest.hookimpl(tryfirst=True)  # before ``-m`` picks tests by their marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        if item.get_closest_marker("integration") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


def pytest_configure(config: pytest.Config) -> None:
    """A WEIR_HOME for this session (per xdist worker: each configures on its own)."""
    global _SESSION_HOME
    _SESSION_HOME = tempfile.mkdtemp(prefix="weir-test-home-")
    os.environ["WEIR_HOME"] = _SESSION_HOME
    # The CLI's consoles are made at import; one made while COLUMNS is set keeps that
    # width for good. xdist sets COLUMNS=80 in its workers, a shell may export one: the
    # CLI tests give the width they want in each command's own environment instead.
    os.environ.pop("COLUMNS", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION_HOME is not None:
        shutil.rmtree(_SESSION_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def dask_cluster_address() -> Iterator[str]:
    """A real distributed.LocalCluster with 2 single-threaded worker processes."""
    import logging

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


def _make(name: str, request: pytest.FixtureRequest) -> Executor:
    cls, kwargs = EXECUTORS[name]
    if cls is DaskExecutor:
        kwargs = {**kwargs, "address": request.getfixturevalue("dask_cluster_address")}
    return cls(**kwargs)


@pytest.fixture(params=list(EXECUTORS))
def executor(request: pytest.FixtureRequest) -> Executor:
    """A fresh executor of each kind in EXECUTORS."""
    return _make(request.param, request)


@pytest.fixture(params=SHARED_MEMORY)
def shared_memory_executor(request: pytest.FixtureRequest) -> Executor:
    """A fresh executor of each kind in EXECUTORS whose tasks run in this process."""
    return _make(request.param, request)


@pytest.fixture
def clean_cache() -> Iterator[None]:
    """An empty in-process result cache before and after the test."""
    CACHE.clear()
    yield
    CACHE.clear()
