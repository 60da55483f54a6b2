"""Secrets: set, list (names only), read one value, delete.

Values are stored sealed by the server's SecretBox (see
``weir.server.database.secret_box``); only ``read`` ever opens one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from weir.server.database import orm
from weir.server.database.engine import Database
from weir.server.database.secret_box import SecretBox
from weir.server.errors import NotFound

_boxes: dict[str, SecretBox] = {}


def box_for(db: Database) -> SecretBox:
    """The SecretBox of ``db`` (one per database file, or one for PostgreSQL)."""
    where = db.sqlite_path or "postgresql"
    box = _boxes.get(where)
    if box is None:
        box = _boxes[where] = SecretBox(db.sqlite_path)
    return box


def put(session: Session, box: SecretBox, name: str, value: Any) -> tuple[orm.Secret, bool]:
    """Set ``name`` to ``value``; (the row, whether it is new)."""
    sealed = box.seal(value)
    row = session.scalar(select(orm.Secret).where(orm.Secret.name == name))
    if row is None:
        row = orm.Secret(name=name, value=sealed)
        session.add(row)
        session.flush()
        return row, True
    row.value = sealed
    session.flush()
    return row, False


def list_all(session: Session) -> list[orm.Secret]:
    return list(session.scalars(select(orm.Secret).order_by(orm.Secret.name)))


def read(session: Session, box: SecretBox, name: str) -> Any:
    """The value of ``name``; NotFound naming the command that sets it."""
    return box.open(_row(session, name).value)


def delete(session: Session, name: str) -> orm.Secret:
    row = _row(session, name)
    session.delete(row)
    session.flush()
    return row


def _row(session: Session, name: str) -> orm.Secret:
    row = session.scalar(select(orm.Secret).where(orm.Secret.name == name))
    if row is None:
        raise NotFound(
            f"There is no secret named {name!r}; `weir secret set {name} VALUE` sets it "
            "and `weir secret ls` lists those there are."
        )
    return row
