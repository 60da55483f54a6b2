"""The key secrets are encrypted with, and the encrypting itself (Fernet).

A secret's value is stored as a Fernet token (AES-128-CBC with an HMAC-SHA256,
from the ``cryptography`` package) of its JSON. The key is not in the database,
so a copy of the database alone (a backup, a stolen file) reveals no value. It
comes, in order, from:

1. ``WEIR_SECRETS_KEY`` (a Fernet key, ``weir server secrets-key`` style: 32
   url-safe base64 bytes) — what several servers sharing one PostgreSQL set;
2. the file ``secrets.key`` beside the SQLite database file, or in weir's home
   directory for PostgreSQL, made 0600 with a new random key on first use.

Losing the key loses the values (they cannot be read back); keep it with the
database's backups, apart from them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from weir.exceptions import ConfigurationError

__all__ = ["KEY_ENV", "SecretBox", "key_path"]

KEY_ENV = "WEIR_SECRETS_KEY"
KEY_FILE = "secrets.key"


def key_path(sqlite_path: str | None) -> Path:
    """Where the key file is: beside the SQLite database, else in weir's home."""
    if sqlite_path:
        return Path(sqlite_path).expanduser().resolve().parent / KEY_FILE
    from weir.server.settings import private_home

    return private_home() / KEY_FILE


class SecretBox:
    """Encrypts and decrypts secret values with one key, loaded (or made) on first use."""

    def __init__(self, sqlite_path: str | None) -> None:
        self._sqlite_path = sqlite_path
        self._fernet: Any = None

    def seal(self, value: Any) -> str:
        """The stored form of ``value`` (any JSON value)."""
        return str(self._key().encrypt(json.dumps(value).encode()).decode("ascii"))

    def open(self, token: str) -> Any:
        """The value a stored token holds; ConfigurationError if the key is not the one."""
        from cryptography.fernet import InvalidToken

        try:
            return json.loads(self._key().decrypt(token.encode("ascii")))
        except InvalidToken:
            raise ConfigurationError(
                "A stored secret cannot be decrypted with this server's key: the key "
                f"({KEY_ENV}, or {key_path(self._sqlite_path)}) is not the one it was "
                "stored with. Restore that key, or set the secret again."
            ) from None

    def _key(self) -> Any:
        if self._fernet is None:
            from cryptography.fernet import Fernet

            self._fernet = Fernet(self._load_key())
        return self._fernet

    def _load_key(self) -> bytes:
        given = os.environ.get(KEY_ENV)
        if given:
            return _checked(given.encode(), KEY_ENV)
        path = key_path(self._sqlite_path)
        try:
            return _checked(path.read_bytes().strip(), str(path))
        except FileNotFoundError:
            pass
        from cryptography.fernet import Fernet

        key = Fernet.generate_key()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written whole under another name, then linked into place: a server starting
        # beside this one sees no key file or a complete one, never half of one.
        draft = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        fd = os.open(draft, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key + b"\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            # Another server process made it first: use theirs.
            key = _checked(path.read_bytes().strip(), str(path))
        finally:
            draft.unlink()
        return key


def _checked(key: bytes, where: str) -> bytes:
    import base64
    import binascii

    try:
        if len(base64.urlsafe_b64decode(key)) == 32:
            return key
    except (binascii.Error, ValueError):
        pass
    raise ConfigurationError(
        f"The secrets key in {where} is not a Fernet key (32 url-safe base64 bytes); "
        'make one with `python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"`.'
    )
