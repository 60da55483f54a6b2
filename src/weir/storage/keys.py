"""File names from flow names, and keys that must stay inside their base directory."""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePosixPath

from weir.exceptions import StorageError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def flow_slug(name: str) -> str:
    """A file-name-safe form of a flow name ("ETL / daily" -> "ETL-daily")."""
    slug = _UNSAFE.sub("-", name).strip("-.")
    return slug or "flow"


def content_key(flow_name: str, data: bytes, suffix: str) -> str:
    """``<flow slug>/<sha256 prefix><suffix>``: same bytes, same key; new bytes, new key."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    return f"{flow_slug(flow_name)}/{digest}{suffix}"


def check_key(key: str, base: str) -> str:
    """Return ``key`` if it names a place inside ``base``; refuse '..', absolute paths."""
    if not isinstance(key, str) or not key:
        raise StorageError(f"A storage key under {base} must be a non-empty string, not {key!r}.")
    parts = PurePosixPath(key.replace("\\", "/")).parts
    if key.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise StorageError(
            f"The storage key {key!r} would leave its base {base}; give a relative path "
            "inside it, without '..', a leading '/' or a drive or scheme."
        )
    return key


def join_key(base: str, key: str) -> str:
    """``base`` and a checked ``key`` joined with '/' (fsspec URLs and paths alike)."""
    return base.rstrip("/") + "/" + check_key(key, base)
