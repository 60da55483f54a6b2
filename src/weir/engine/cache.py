"""The in-process cache of task results (``cache_for``): Cached states by cache key."""

from __future__ import annotations

import threading
import time
from typing import Any

from weir.engine.state import Cached


class CacheStore:
    """Cached states per key, newest first; expired entries are dropped when read.

    ``entries``: the dict to keep them in (one of the user's, see ``store_for``).
    """

    def __init__(self, entries: dict[str, list[Cached]] | None = None) -> None:
        self._entries: dict[str, list[Cached]] = {} if entries is None else entries
        self._lock = threading.Lock()

    def add(self, key: str, state: Cached) -> None:
        with self._lock:
            self._entries.setdefault(key, []).insert(0, state)

    def candidates(self, key: str) -> list[Cached]:
        now = time.time()
        with self._lock:
            entries = self._entries.get(key)
            if not entries:
                return []
            live = [
                s
                for s in entries
                if s.cached_result_expiration is None or s.cached_result_expiration > now
            ]
            self._entries[key] = live
            return list(live)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = CacheStore()


def store_for(given: Any) -> CacheStore | None:
    """The store a run's ``caches`` context value names (Prefect 1's
    ``context(caches={})``, which test suites use to start from an empty cache), or
    None when it names none and the process's ``CACHE`` serves."""
    return CacheStore(given) if isinstance(given, dict) else None
