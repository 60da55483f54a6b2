"""Projects: named groups of flows, created on first use."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from weir.server.database import orm
from weir.server.errors import NotFound


def get_or_create(session: Session, name: str, description: str | None = None) -> orm.Project:
    """The project called ``name``, created if it does not exist yet."""
    query = select(orm.Project).where(orm.Project.name == name)
    project = session.scalar(query)
    if project is not None:
        return project
    project = orm.Project(name=name, description=description)
    try:
        # A savepoint: when another request creates the same project first, use theirs.
        with session.begin_nested():
            session.add(project)
            session.flush()
    except IntegrityError:
        found = session.scalar(query)
        if found is None:
            raise
        return found
    return project


def read(session: Session, project_id: uuid.UUID) -> orm.Project:
    project = session.get(orm.Project, project_id)
    if project is None:
        raise NotFound(f"There is no project with id {project_id}.")
    return project


def list_all(session: Session, limit: int = 100, offset: int = 0) -> list[orm.Project]:
    query = select(orm.Project).order_by(orm.Project.name).limit(limit).offset(offset)
    return list(session.scalars(query))
