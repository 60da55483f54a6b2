"""Giving SQLite's free pages back to the file system after deletions.

SQLite keeps the pages of deleted rows in the file, on its freelist, and
reuses them for new rows: once old runs are deleted the file stops growing,
but it does not shrink. weir creates its databases with
``auto_vacuum=INCREMENTAL`` (see ``engine.py``), under which
``PRAGMA incremental_vacuum(N)`` moves N free pages to the end of the file and
cuts them off; ``reclaim`` does that in short write transactions after the
retention service or a delete removed rows.

A database made before weir set that mode has ``auto_vacuum=NONE``, and only a
full ``VACUUM`` (which rewrites the whole file and holds the writer meanwhile)
can change it. ``convert_at_start`` does that when the server starts if the
file is small (``CONVERT_MAX_BYTES``), where it takes a moment; a larger file
is left as it is, with a warning saying how to convert it during a pause.
"""

from __future__ import annotations

import logging
import os
import sqlite3

from sqlalchemy import text

from weir.server.database.engine import SQLITE_BUSY_TIMEOUT_MS, Database

logger = logging.getLogger(__name__)

#: ``PRAGMA auto_vacuum`` value of INCREMENTAL.
INCREMENTAL = 2
#: Free pages given back per transaction (4 MB with the default 4 KB pages).
PAGES_PER_STEP = 1024
#: A database up to this size is converted to INCREMENTAL when the server starts.
CONVERT_MAX_BYTES = 64 * 1024 * 1024


def auto_vacuum_mode(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("PRAGMA auto_vacuum")).scalar_one())


def free_pages(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("PRAGMA freelist_count")).scalar_one())


def reclaim(db: Database, pages_per_step: int = PAGES_PER_STEP) -> int:
    """Give the free pages back, a step per write transaction; return how many went."""
    if not db.is_sqlite or auto_vacuum_mode(db) != INCREMENTAL:
        return 0
    freed = 0
    while True:
        with db.session(write=True) as session:
            before = int(session.execute(text("PRAGMA freelist_count")).scalar_one())
            if before == 0:
                break
            session.execute(text(f"PRAGMA incremental_vacuum({int(pages_per_step)})"))
            after = int(session.execute(text("PRAGMA freelist_count")).scalar_one())
        freed += before - after
        if after == 0 or after >= before:
            break
    if freed:
        logger.info("Database %s: gave %d free pages back to the file system.", db.url, freed)
    return freed


def convert_at_start(db: Database, max_bytes: int = CONVERT_MAX_BYTES) -> bool:
    """Switch a small existing SQLite database to INCREMENTAL (one VACUUM); True if done."""
    path = db.sqlite_path
    if path is None or auto_vacuum_mode(db) == INCREMENTAL:
        return False
    size = os.path.getsize(path)
    if size > max_bytes:
        logger.warning(
            "Database %s (%.0f MB) was made without auto_vacuum=INCREMENTAL, so space freed "
            "by deleted runs is reused but never given back to the file system. To convert "
            "it, stop the server and run: sqlite3 %s 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'",
            path,
            size / 1e6,
            path,
        )
        return False
    # VACUUM cannot run inside a transaction: a connection of its own, in autocommit mode,
    # while this process's writers wait on the lock (others wait on the busy timeout).
    with db.write_lock:
        connection = sqlite3.connect(
            path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        try:
            connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
            connection.execute("VACUUM")
        finally:
            connection.close()
        # Pooled connections may still hold the file's old header.
        db.dispose()
    logger.info("Database %s: switched to auto_vacuum=INCREMENTAL (one VACUUM).", path)
    return True
