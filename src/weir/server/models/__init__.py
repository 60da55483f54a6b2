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

from sqlalchemy import select
from sqlalchemy.orm import Session

from weir.server.database import orm
from weir.server.errors import NotFound


def existing_runs(session: Session, run_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``run_ids`` that name a flow run the database has."""
    return set(session.scalars(select(orm.FlowRun.id).where(orm.FlowRun.id.in_(set(run_ids)))))


def runs_exist(session: Session, run_ids: Iterable[uuid.UUID]) -> None:
    """Raise NotFound naming the first flow run id the database does not have."""
    wanted = set(run_ids)
    found = existing_runs(session, wanted)
    missing = sorted(str(i) for i in wanted - found)
    if missing:
        raise NotFound(f"There is no flow run with id {missing[0]}; nothing was written.")
