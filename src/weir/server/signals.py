"""Wake waiting claims when work appears, from any thread, without losing a wake-up."""

from __future__ import annotations

import asyncio
import threading


class WorkSignal:
    """A counter bumped on every "new work" event, with an asyncio event to await it.

    A waiter reads ``generation`` before it looks for work and then waits only if
    nothing happened since, so an event between the look and the wait is never lost.
    """

    def __init__(self) -> None:
        self.generation = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the server's event loop (called at startup)."""
        self._loop = loop
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Say that new work may be due; safe to call from any thread."""
        with self._lock:
            self.generation += 1
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()

    async def wait(self, since: int, timeout: float) -> None:
        """Return when ``generation`` moves past ``since``, or after ``timeout`` seconds."""
        if self._event is None:  # served without a lifespan (some test clients)
            self.bind(asyncio.get_running_loop())
        event = self._event
        if self.generation != since or event is None or timeout <= 0:
            return
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass
