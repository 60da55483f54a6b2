"""Results: where task outputs are kept between runs (checkpoints, caches, targets).

``Result`` writes anywhere fsspec reaches (``memory://``, ``file://``, ``s3://`` …);
``LocalResult`` keeps files under one local directory.
"""

from __future__ import annotations

from weir.engine.results.base import Result, results_home
from weir.engine.results.local import LocalResult

__all__ = ["LocalResult", "Result", "results_home"]
