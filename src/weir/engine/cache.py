"""The in-process cache of task results (``cache_for``): Cached states by cache key."""

from __future__ import annotations

import threading
import time

from weir.engine.state import Cached


class CacheStore:
    """Cached states per key, newest first; expired entries are dropped when read."""

    def __init__(self) -> None:
        self._entries: dict[str, list[Cached]] = {}
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
