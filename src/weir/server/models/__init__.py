"""Model functions: the server's logic, each taking a Session (no FastAPI in here).

Most functions run inside the caller's transaction and never commit. Two modules
are those callers, owning their transactions: ``writes`` (one function per write
of run states: a task-run batch, a task run's or a flow run's state) and
``reading`` (the read transaction that sees every task-run batch answered for).
Other routes open one transaction per request (``Database.session``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from weir.server.database import orm
from weir.server.errors import NotFound


def run_ids_of(items: Iterable[Any]) -> set[uuid.UUID]:
    """The flow run ids ``items`` (each with a ``flow_run_id``) name, once each.

    Told apart by their int: a set of UUIDs hashes each of a thousand items' ids in
    Python (``UUID.__hash__``), an int hashes in C.
    """
    return set({i.flow_run_id.int: i.flow_run_id for i in items}.values())


def existing_runs(session: Session, run_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``run_ids`` that name a flow run the database has (asked once per
    transaction: see ``known_to_exist``)."""
    wanted = set(run_ids)
    known: set[uuid.UUID] = session.info.setdefault(_KNOWN, set())
    unknown = wanted - known
    if unknown:
        known.update(session.scalars(_EXISTING, {"ids": list(unknown)}))
    return wanted & known


def known_to_exist(session: Session, run_ids: Iterable[uuid.UUID]) -> None:
    """Note flow runs this transaction has read: checks of them later in it need no query.

    A state write's reports name their run three or four times (its attempt, then its
    task runs, log lines and trace events), and each check was a query of its own.
    """
    session.info.setdefault(_KNOWN, set()).update(run_ids)


def forget_runs(session: Session) -> None:
    """Forget the runs this transaction knew to exist: it has just deleted some."""
    session.info.pop(_KNOWN, None)


#: Where a transaction (its Session's ``info``) keeps the flow runs it knows exist.
_KNOWN = "weir.existing_runs"


#: Built once: a state write or batch runs it, and building it cost as much as running it.
_EXISTING = select(orm.FlowRun.id).where(orm.FlowRun.id.in_(bindparam("ids", expanding=True)))


def runs_exist(session: Session, run_ids: Iterable[uuid.UUID]) -> None:
    """Raise NotFound naming the first flow run id the database does not have."""
    wanted = set(run_ids)
    found = existing_runs(session, wanted)
    missing = sorted(str(i) for i in wanted - found)
    if missing:
        raise NotFound(f"There is no flow run with id {missing[0]}; nothing was written.")
