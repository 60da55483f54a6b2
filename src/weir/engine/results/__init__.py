"""Results: where task outputs are kept between runs (checkpoints, caches, targets).

``Result`` writes anywhere fsspec reaches (``memory://``, ``file://``, ``s3://`` …);
``LocalResult`` keeps files under one local directory; ``PrefectResult`` keeps a
small value in its location (with the task run's state); ``ConstantResult`` holds a
value that is never stored; ``S3Result``, ``GCSResult`` and ``AzureResult`` keep
objects in one bucket.
"""

from __future__ import annotations

from weir.engine.results.base import Result, results_home
from weir.engine.results.kinds import (
    AzureResult,
    ConstantResult,
    GCSResult,
    PrefectResult,
    S3Result,
)
from weir.engine.results.local import LocalResult

__all__ = [
    "AzureResult",
    "ConstantResult",
    "GCSResult",
    "LocalResult",
    "PrefectResult",
    "Result",
    "S3Result",
    "results_home",
]


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
