"""Bulk writes for the batch endpoints the engine reports through, each database its fastest way.

PostgreSQL takes rows through COPY (``pg_bulk``), by way of a temporary table
when rows already stored must be skipped (COPY itself cannot skip a row); a few
such rows (a state write's trace events) go as one INSERT … ON CONFLICT each,
sent together, instead of the temporary table's four statements.
SQLite takes them through the driver's ``executemany``. Both get the values
converted column by column by SQLAlchemy's own bind processors (``bind_values``:
the same conversions a Core ``insert()`` makes), which skips the per-row
parameter building of a compiled statement: about half the cost of a batch of a
thousand task runs. On PostgreSQL, text loses its NULs there (see
``weir.server.database.pg_text``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from weir.server.database.pg_text import NUL, clean_bound
from weir.server.errors import Unprocessable

T = TypeVar("T")


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts sharing their keys) into ``table``."""
    if not rows:
        return
    if _is_postgres(session):
        from weir.server.models import pg_bulk  # psycopg: installed with the postgres extra

        pg_bulk.copy_rows(session, table, rows)
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    _executemany(session, sql, bind_values(session, table, columns, rows))


def insert_new_rows(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> int:
    """INSERT the ``rows`` whose ``key`` columns match no stored row; return how many.

    ``key`` names a unique index's columns. Rows with NULL in them never match, so
    they are all written.
    """
    if not rows:
        return 0
    postgres = _is_postgres(session)
    if postgres and not few(session, len(rows)):
        from weir.server.models import pg_bulk

        if not any(all(row[c] is not None for c in key) for row in rows):
            # Nothing to skip (e.g. an older client's lines): COPY straight in.
            pg_bulk.copy_rows(session, table, rows)
            return len(rows)
        return pg_bulk.copy_new_rows(session, table, rows, key=key)
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("%s" if postgres else "?" for _ in columns)
    target = ", ".join(f'"{c}"' for c in key)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) ON CONFLICT ({target}) DO NOTHING'
    # The driver sums the rows each execution changed; a skipped row changes none.
    return _executemany(session, sql, bind_values(session, table, columns, rows))


#: PostgreSQL: up to this many rows go as one statement per row, sent together by the
#: driver, rather than through COPY or a temporary table (four statements whatever the
#: number of rows: a state write's few trace events paid them all).
FEW_ROWS = 50
#: The session key ``one_by_one`` sets.
_ONE_BY_ONE = "weir.bulk.one_by_one"


def few(session: Session, rows: int) -> bool:
    """Whether ``rows`` rows go as plain statements (see ``FEW_ROWS``): on PostgreSQL, at
    most that many, and not item by item (``one_by_one``), where COPY names the column
    of a refused value for the 422 and a plain statement does not."""
    return rows <= FEW_ROWS and not session.info.get(_ONE_BY_ONE)


@contextmanager
def one_by_one(session: Session) -> Iterator[None]:
    """Mark the block as writing item by item, after the database refused a value of a
    batch: COPY then names the refused value's column (see ``few``)."""
    session.info[_ONE_BY_ONE] = True
    try:
        yield
    finally:
        del session.info[_ONE_BY_ONE]


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def bind_values(
    session: Session, table: Table, columns: list[str], rows: Sequence[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """The rows' values in ``columns`` order, as this database's driver takes them."""
    dialect = session.get_bind().dialect
    processors: list[Callable[[Any], Any] | None] = [
        table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
    ]
    # Column by column: one loop per converter instead of a test per value.
    values = []
    for c, process in zip(columns, processors, strict=True):
        raw = [row[c] for row in rows]
        if process is clean_bound:
            # Text on PostgreSQL: the NUL check inline, a call only for the rare hit.
            values.append([v if v is None or NUL not in v else clean_bound(v) for v in raw])
        else:
            values.append([None if v is None else process(v) for v in raw] if process else raw)
    return list(zip(*values, strict=True))


def _executemany(session: Session, sql: str, params: list[tuple[Any, ...]]) -> int:
    """Run ``sql`` once per parameter tuple; return the rows changed in all."""
    return int(session.connection().exec_driver_sql(sql, params).rowcount)


def write_each(
    session: Session, items: Sequence[T], write: Callable[[Session, list[T]], int]
) -> tuple[int, list[tuple[int, str]]]:
    """``write`` the items one at a time, each in a savepoint of its own.

    For a batch the database refused a value of (a DataError, which fails the whole
    statement): the items it can store are written, and the others are returned,
    as (index in the batch, the database's reason), with how many rows were written.
    """
    written = 0
    refused: list[tuple[int, str]] = []
    with one_by_one(session):
        for index, item in enumerate(items):
            try:
                with session.begin_nested():
                    written += write(session, [item])
            except DataError as exc:
                refused.append((index, reason(exc)))
    return written, refused


def refusal(refused: list[tuple[int, str]], written: int) -> Unprocessable:
    """The 422 for a batch whose items at ``refused`` the database cannot store; its
    field names the first of them (``[3]``, or ``[3].message`` when the database
    named the column)."""
    first, why = refused[0]
    where = ", ".join(str(i) for i, _ in refused[:20]) + (" ..." if len(refused) > 20 else "")
    column = _COLUMN.search(why)
    return Unprocessable(
        f"The database cannot store a value of item(s) {where} of the batch "
        f"(item {first}: {why}); those were not stored, the other {written} were. "
        "Send the refused items again with the value changed, or drop them.",
        field=f"[{first}]" + (f".{column.group(1)}" if column else ""),
    )


#: How a reason names its column (see ``reason``).
_COLUMN = re.compile(r"\(column (\w+)\)$")


def reason(exc: DataError) -> str:
    """The database's own words for a refused value (its first line), and the column
    it was for when the database says (COPY does)."""
    text = str(exc.orig).strip().splitlines()[0][:500] if exc.orig else str(exc)[:500]
    diag = getattr(exc.orig, "diag", None)
    named = getattr(diag, "column_name", None) or _context_column(getattr(diag, "context", None))
    return f"{text} (column {named})" if named else text


def _context_column(context: str | None) -> str | None:
    found = re.search(r"\bcolumn (\w+)", context or "")
    return found.group(1) if found else None
