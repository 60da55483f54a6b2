"""API keys: random secrets, kept only as sha256 hashes, checked in constant time.

A key reads ``weir_<prefix>_<secret>``. The prefix (public, unique) finds the
row; the sha256 of the whole key is compared with ``hmac.compare_digest``. The
secret has 256 bits of entropy, so a fast hash is enough: nobody can guess keys
from their hashes. Every request looks its key up again, so revoking is instant.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from weir.schemas.actions import Role
from weir.server.database import orm
from weir.server.errors import NotFound

PREFIX = "weir"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(session: Session, name: str, role: Role) -> tuple[orm.ApiKey, str]:
    """A new key; the plain key is returned once and never stored."""
    prefix = secrets.token_hex(6)
    key = f"{PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = orm.ApiKey(
        name=name, role=role.value, prefix=prefix, key_hash=hash_key(key), revoked=False
    )
    session.add(row)
    session.flush()
    return row, key


def list_all(session: Session) -> list[orm.ApiKey]:
    return list(session.scalars(select(orm.ApiKey).order_by(orm.ApiKey.created)))


def revoke(session: Session, key_id_or_prefix: str) -> orm.ApiKey:
    row = None
    try:
        row = session.get(orm.ApiKey, uuid.UUID(key_id_or_prefix))
    except ValueError:
        row = session.scalar(select(orm.ApiKey).where(orm.ApiKey.prefix == key_id_or_prefix))
    if row is None:
        raise NotFound(
            f"There is no API key with id or prefix {key_id_or_prefix!r}; "
            "`weir server api-key ls` lists them."
        )
    row.revoked = True
    session.flush()
    return row


def verify(session: Session, key: str) -> Role | None:
    """The role of a valid, unrevoked key; None for anything else."""
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != PREFIX:
        return None
    row = session.scalar(select(orm.ApiKey).where(orm.ApiKey.prefix == parts[1]))
    if row is None or row.revoked:
        return None
    if not hmac.compare_digest(row.key_hash, hash_key(key)):
        return None
    return Role(row.role)
