"""Subpackages reachable as attributes, as after ``import prefect``.

Prefect 1's packages import their submodules when they are imported, so code
written for it reaches them as attributes of what it imported:
``prefect.utilities.logging.get_logger()`` at a module's top,
``@task(result=prefect.engine.results.LocalResult(...))``,
``raise prefect.engine.signals.SKIP()``. weir's packages import little (``import
weir`` stays fast); each of them hands out a submodule on first access instead.

This module imports nothing of weir's, so every package may use it.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


def submodule(package: str, name: str) -> ModuleType:
    """``package.name``, imported now if it is a submodule; else the AttributeError
    Python would raise for a missing attribute of ``package``."""
    if not name.startswith("_"):
        full = f"{package}.{name}"
        if importlib.util.find_spec(full) is not None:
            return importlib.import_module(full)
    raise AttributeError(f"module {package!r} has no attribute {name!r}")
