"""Prefect 1's ``prefect.engine.result`` path: the Result base class.

The Result kinds live in :mod:`weir.engine.results`; this module keeps the
older import (``from prefect.engine.result import Result``) working.
"""

from __future__ import annotations

from weir.engine.results.base import Result

__all__ = ["Result"]


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
