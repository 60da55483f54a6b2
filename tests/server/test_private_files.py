"""The SQLite database is created readable by its user only (it holds flows, logs, key hashes)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from weir.server.database.engine import Database


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_directory_are_private(tmp_path: Path) -> None:
    home = tmp_path / "home" / ".weir"
    db = Database(f"sqlite:///{home / 'weir.db'}")
    try:
        with db.session(write=True) as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        assert _mode(home) == 0o700
        assert _mode(home / "weir.db") == 0o600
        assert _mode(home / "weir.db-wal") == 0o600  # SQLite copies the database's mode
    finally:
        db.dispose()


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch()
    os.chmod(path, 0o640)
    Database(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o640
