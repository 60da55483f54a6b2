"""WEIR_HOME, the directory weir keeps its files in (``~/.weir`` by default).

Every layer reads it here: the engine (results, the cache), storage (pickled
flows), the client (``weir up``'s keys) and the server (its SQLite database). A
plain read of the environment, not a settings model: ``flow.run()`` needs it
without importing pydantic.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Where weir keeps its files when WEIR_HOME is unset or empty.
DEFAULT_HOME = "~/.weir"


def weir_home() -> Path:
    """``$WEIR_HOME`` (read anew each call, so a changed environment counts), expanded."""
    return Path(os.environ.get("WEIR_HOME") or DEFAULT_HOME).expanduser()
