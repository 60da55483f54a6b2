"""JSON text for request bodies and database columns, made fast.

The engine's batches and the server's JSON columns are encoded on hot paths, so
this uses orjson (about ten times faster than the standard library) and falls
back to the standard library for what orjson refuses (integers beyond 64 bits,
lone surrogates), so the same values encode as before. Decoding stays with the
standard library, which keeps big integers exact.
"""

from __future__ import annotations

import json
import uuid
from enum import Enum
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON (UTF-8 bytes); ids as text, enums as their value."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), default=_plain).encode()


def dumps_text(value: Any) -> str:
    """``dumps`` as a str (for database drivers)."""
    return dumps(value).decode()


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
