"""Projects: named groups of flows, created on first use."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from weir.server.database import orm
from weir.server.errors import NotFound


def get_or_create(session: Session, name: str, description: str | None = None) -> orm.Project:
    """The project called ``name``, created if it does not exist yet."""
    project = session.scalar(select(orm.Project).where(orm.Project.name == name))
    if project is None:
        project = orm.Project(name=name, description=description)
        session.add(project)
        session.flush()
    return project


def read(session: Session, project_id: uuid.UUID) -> orm.Project:
    project = session.get(orm.Project, project_id)
    if project is None:
        raise NotFound(f"There is no project with id {project_id}.")
    return project


def list_all(session: Session, limit: int = 100, offset: int = 0) -> list[orm.Project]:
    query = select(orm.Project).order_by(orm.Project.name).limit(limit).offset(offset)
    return list(session.scalars(query))
