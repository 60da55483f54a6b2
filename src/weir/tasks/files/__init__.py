"""``weir.tasks.files``: copy, move, remove, find and (un)zip files (Prefect 1's path)."""

from __future__ import annotations

from weir.tasks.files.compression import Unzip, Zip
from weir.tasks.files.operations import Copy, Glob, Move, Remove

__all__ = ["Copy", "Glob", "Move", "Remove", "Unzip", "Zip"]
