"""Bulk writes on PostgreSQL through COPY, for the task-run batch endpoint.

``executemany`` sends one statement per row; COPY streams all rows in one
command, several times faster for the batches the engine sends. Updates go
through a temporary table: COPY the new values in, then one UPDATE … FROM; so do
inserts that must skip rows already stored (INSERT … SELECT … ON CONFLICT).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from weir.server.models.bulk import bind_values


def _driver_connection(session: Session) -> Any:
    return session.connection().connection.driver_connection


@contextmanager
def driver_cursor(session: Session, table: Table) -> Iterator[Any]:
    """A driver cursor whose errors come out as SQLAlchemy's (DataError, OperationalError,
    ...), as those of every other statement do: the API answers each with its status
    (a value the database refuses is a 422, not a 500)."""
    try:
        with _driver_connection(session).cursor() as cursor:
            yield cursor
    except psycopg.Error as exc:
        raise DBAPIError.instance(
            f"bulk write into {table.name}", None, exc, psycopg.Error
        ) from exc


def copy_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts sharing their keys) into ``table`` with COPY."""
    columns = list(rows[0])
    copy_values(session, table, columns, bind_values(session, table, columns, rows))


def copy_values(
    session: Session, table: Table, columns: Sequence[str], values: Iterable[Sequence[Any]]
) -> None:
    """INSERT ``values`` (tuples in ``columns``' order, as the driver takes them: text
    already cleaned, see ``weir.server.database.pg_text``) into ``table`` with COPY."""
    with copy_into(session, table, columns) as write:
        for row in values:
            write(row)


@contextmanager
def copy_into(
    session: Session, table: Table, columns: Sequence[str]
) -> Iterator[Callable[[Sequence[Any]], None]]:
    """A COPY into ``table``'s ``columns``, open while the block runs: the function it
    yields sends one row (a tuple as ``copy_values`` takes them). The rows go out as
    they are given, so PostgreSQL stores the first while the caller builds the next;
    no other statement may run on the session meanwhile."""
    names = ", ".join(f'"{c}"' for c in columns)
    with driver_cursor(session, table) as cursor:
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            yield copy.write_row


def copy_new_rows(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> int:
    """INSERT the ``rows`` whose ``key`` (a unique index's columns) is not stored yet.

    COPY cannot skip a row, so the rows are copied into a temporary table first and
    moved with one INSERT … SELECT … ON CONFLICT DO NOTHING. Returns the rows written.
    """
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    temp = f"_weir_insert_{table.name}_{zlib.crc32(names.encode()):08x}"
    target = ", ".join(f'"{c}"' for c in key)
    with driver_cursor(session, table) as cursor:
        values = bind_values(session, table, columns, rows)
        _fill_temp_table(cursor, table, temp, columns, values, numbered=True)
        # In the batch's order, which PostgreSQL keeps only when asked: the rows take
        # their ids in it, and a log's id order is its read order.
        cursor.execute(
            f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM "{temp}" '
            f'ORDER BY "{_ORDINAL}" ON CONFLICT ({target}) DO NOTHING'
        )
        written = cursor.rowcount
        cursor.execute(f'DELETE FROM "{temp}"')
    return int(written)


def update_values(
    session: Session,
    table: Table,
    columns: Sequence[str],
    values: Sequence[Sequence[Any]],
    key: str,
) -> None:
    """UPDATE ``table`` from ``values`` (tuples in ``columns``' order, as the driver
    takes them, ``key`` among the columns), matching on ``key``."""
    names = ", ".join(f'"{c}"' for c in columns)
    # Named by its columns: a temporary table holds exactly the columns written.
    temp = f"_weir_update_{table.name}_{zlib.crc32(names.encode()):08x}"
    assignments = ", ".join(f'"{c}" = u."{c}"' for c in columns if c != key)
    with driver_cursor(session, table) as cursor:
        _fill_temp_table(cursor, table, temp, list(columns), values)
        cursor.execute(
            f'UPDATE "{table.name}" AS t SET {assignments} FROM "{temp}" AS u '
            f'WHERE t."{key}" = u."{key}"'
        )
        cursor.execute(f'DELETE FROM "{temp}"')


#: The column of a numbered temporary table that holds each row's place in its batch.
_ORDINAL = "_weir_ordinal"


def _fill_temp_table(
    cursor: Any,
    table: Table,
    temp: str,
    columns: list[str],
    values: Sequence[tuple[Any, ...]],
    *,
    numbered: bool = False,
) -> None:
    """COPY ``values`` (from ``bind_values``) into ``temp``, a temporary table with
    ``table``'s ``columns`` (and, ``numbered``, each row's place in ``values``)."""
    names = ", ".join(f'"{c}"' for c in columns)
    ordinal = f', 0::bigint AS "{_ORDINAL}"' if numbered else ""
    # One temporary table per connection, emptied at every commit.
    cursor.execute(
        f'CREATE TEMP TABLE IF NOT EXISTS "{temp}" ON COMMIT DELETE ROWS '
        f'AS SELECT {names}{ordinal} FROM "{table.name}" WITH NO DATA'
    )
    copied = f'{names}, "{_ORDINAL}"' if numbered else names
    with cursor.copy(f'COPY "{temp}" ({copied}) FROM STDIN') as copy:
        for n, row in enumerate(values):
            copy.write_row((*row, n) if numbered else row)
