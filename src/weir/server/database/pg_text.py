"""Text PostgreSQL cannot store, made storable: NUL becomes U+FFFD on the way in.

A task may log, return or fail with text holding the NUL character (a C string,
bytes decoded as latin-1). PostgreSQL's text types cannot hold it (the driver
refuses the value), and JSONB refuses the escape ``\\u0000`` inside any string
or key of a JSON value. A report must not fail a run for that, so on PostgreSQL
every NUL bound for a text column, and every ``\\u0000`` of a JSON column's
text, is replaced by U+FFFD REPLACEMENT CHARACTER. One character for one: a
value checked against a length limit still fits it once cleaned. Values the
server compares with stored ones (a task run's slug, say) are cleaned alike,
so they still match.

Two places do it, one per kind of value, for the ORM and the bulk paths alike:

- text columns: ``clean_text_columns`` gives every String/Text column of the
  metadata a PostgreSQL variant whose bind processor is ``clean_bound``
  (``weir.server.models.bulk.bind_values`` runs the same check inline);
- JSON columns: the PostgreSQL engine serializes JSON with ``dumps_json``.

SQLite stores NUL faithfully, in text and in JSON text, so it is kept there.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Enum, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from weir.schemas import jsontext

#: What a NUL becomes on PostgreSQL.
REPLACEMENT = "\ufffd"
NUL = "\x00"

# The JSON escape \u0000, unless its backslash is itself escaped ("\\u0000" is the
# text backslash-u-0-0-0-0): an even run of backslashes before it is kept.
_NUL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def clean_text(value: str) -> str:
    """``value`` with every NUL replaced (itself when it holds none)."""
    return value.replace(NUL, REPLACEMENT) if NUL in value else value


def clean_bound(value: Any) -> Any:
    """A text column's bind processor on PostgreSQL (None passes through)."""
    if value is None or NUL not in value:
        return value
    return value.replace(NUL, REPLACEMENT)


def clean_json_text(text: str) -> str:
    """JSON text with every ``\\u0000`` escape (in a string or a key) replaced."""
    if "\\u0000" not in text:
        return text
    return _NUL_ESCAPE.sub(lambda m: m.group(1) + REPLACEMENT, text)


def dumps_json(value: Any) -> str:
    """JSON text for a PostgreSQL JSON/JSONB column (see ``clean_json_text``)."""
    return clean_json_text(jsontext.dumps_text(value))


class NulFreeString(TypeDecorator[str]):
    """A String column's PostgreSQL variant: NUL cleaned on the way in."""

    impl = String
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        # String has no processor of its own on psycopg; returning the function itself
        # lets the bulk layer recognise it and run the check inline.
        return clean_bound

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return clean_bound(value)


class NulFreeText(NulFreeString):
    """A Text column's PostgreSQL variant (TEXT in DDL, as before)."""

    impl = Text


def clean_text_columns(metadata: MetaData) -> None:
    """Give every String/Text column of ``metadata`` (not the enums: their values are
    the server's own) a NUL-cleaning variant on PostgreSQL; DDL is unchanged."""
    for table in metadata.tables.values():
        for column in table.columns:
            kind = column.type
            if isinstance(kind, String) and not isinstance(kind, Enum):
                clean = NulFreeText() if isinstance(kind, Text) else NulFreeString(kind.length)
                column.type = kind.with_variant(clean, "postgresql")
