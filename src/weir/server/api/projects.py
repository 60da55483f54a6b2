"""Projects."""

from __future__ import annotations

import uuid

from fastapi import Query

from weir.schemas import actions, responses
from weir.server.api.dependencies import Context, api_router
from weir.server.models import projects

router = api_router("/projects", "projects")


@router.post("", status_code=201)
def create_project(action: actions.ProjectCreate, ctx: Context) -> responses.Project:
    with ctx.db.session(write=True) as session:
        project = projects.get_or_create(session, action.name, action.description)
        return responses.Project.model_validate(project)


@router.get("")
def list_projects(
    ctx: Context,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> list[responses.Project]:
    with ctx.db.session() as session:
        rows = projects.list_all(session, limit, offset)
        return [responses.Project.model_validate(p) for p in rows]


@router.get("/{project_id}")
def read_project(project_id: uuid.UUID, ctx: Context) -> responses.Project:
    with ctx.db.session() as session:
        return responses.Project.model_validate(projects.read(session, project_id))
