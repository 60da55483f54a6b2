"""SQLite's write-ahead log, copied back into the database file off the request path.

In WAL mode every commit appends pages to ``<db>-wal``, and the commit that
takes the log past ``wal_autocheckpoint`` pages (4 MB) copies it into the
database file and syncs it, all inside that commit: 5–30 ms, on this server's
hot path a task-run batch that happened to be fifth in line. The server
instead runs the checkpoint in a thread of its own, on its own connection, soon
after writes: a PASSIVE checkpoint waits for nobody and nobody waits for it
(the driver lets go of the GIL while SQLite works), and the log stays short
enough that the in-commit checkpoint — kept as the safety net for bursts and
for processes without this thread — seldom comes due.

Each connection maps the log's index, ``<db>-shm``, into memory and writes to it
(read marks, checkpoint progress). A write to a mapped page the kernel cannot
take (the file made immutable, say) is a SIGBUS that kills the whole server, not
an error code. So nothing here, and no transaction of the server's engines,
starts while that file cannot be written (``shm_writable``): the database is
then unavailable (503) rather than fatal.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

logger = logging.getLogger(__name__)

#: How often the thread looks at the log (seconds).
INTERVAL = 0.25


class WalCheckpointer:
    """A daemon thread that checkpoints ``path``'s WAL whenever it has grown."""

    def __init__(self, path: str, interval: float = INTERVAL) -> None:
        self.path = path
        self.wal = f"{path}-wal"
        self.interval = interval
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="weir-wal-checkpoint", daemon=True)

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=5)
        except sqlite3.Error as exc:
            # The in-commit checkpoint still runs: slower commits, nothing lost.
            logger.warning("WAL checkpoints of %s stay in the commits: %s", self.path, exc)
            return
        try:
            checkpointed_at = None
            while not self._stop.wait(self.interval):
                # A log untouched since the last checkpoint has nothing new to copy.
                marker = _wal_marker(self.wal)
                if marker is None or marker == checkpointed_at or not shm_writable(self.path):
                    continue
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:
                    # Another process's checkpoint or a locked file: the next round tries again.
                    logger.debug("WAL checkpoint of %s skipped: %s", self.path, exc)
                    continue
                checkpointed_at = _wal_marker(self.wal)
                self.checkpoints += 1
        finally:
            connection.close()


def _wal_marker(wal: str) -> tuple[int, int] | None:
    """The log's size and change time (None while there is no log)."""
    try:
        st = os.stat(wal)
    except FileNotFoundError:
        return None
    return (st.st_size, st.st_mtime_ns)


def shm_writable(path: str) -> bool:
    """Whether ``path``'s WAL index can be written (or does not exist yet).

    ``access`` sees what a write through the mapping would meet: an immutable file
    or a read-only file system refuse writes even to root.
    """
    shm = f"{path}-shm"
    return os.access(shm, os.W_OK) or not os.path.exists(shm)
