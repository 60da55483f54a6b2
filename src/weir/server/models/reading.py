"""Reads that see every write the server has answered for (read-your-writes).

A task-run batch sent with ``wait=false`` is answered once it is stored, and
written into task runs later (see ``task_run_batches``). A read of task runs,
their logs or their trace must still see it. ``session`` is the one read
transaction that guarantees it: it writes the stored batches, if any, before
it yields, so a route asks for it instead of remembering to write them first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from weir.server.database.engine import Database
from weir.server.models import task_run_batches


def write_stored(db: Database, clock: Callable[[], float]) -> int:
    """Write the stored task-run batches, if any; return how many were written."""
    with db.session() as session:
        if not task_run_batches.waiting(session):
            return 0
    with db.session(write=True) as session:
        return task_run_batches.write(session, clock())


@contextmanager
def session(db: Database, clock: Callable[[], float]) -> Iterator[Session]:
    """A read transaction in which every answered task-run batch is written.

    When none is stored (the usual case) the transaction that looked is the one
    yielded: on SQLite its snapshot began with that look, so it holds everything
    answered before it. Otherwise the batches are written in a write transaction
    first, and a new read transaction, which sees them, is yielded.
    """
    with db.session() as looked:
        if not task_run_batches.waiting(looked):
            yield looked
            return
    with db.session(write=True) as writing:
        task_run_batches.write(writing, clock())
    with db.session() as read:
        yield read
