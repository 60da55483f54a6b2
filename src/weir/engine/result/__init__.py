"""Prefect 1's ``prefect.engine.result`` path: the Result base class.

The Result kinds live in :mod:`weir.engine.results`; this module keeps the
older import (``from prefect.engine.result import Result``) working.
"""

from __future__ import annotations

from weir.engine.results.base import Result

__all__ = ["Result"]
