"""Secrets over HTTP: admins set and remove them, runs (agent and admin keys) read a value,
and any key lists their names — never their values."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Response

from weir.schemas import actions, responses
from weir.server.api.dependencies import Context, admin_only, api_router, writer_only
from weir.server.models import secrets

router = api_router("/secrets", "secrets")

#: Names an environment variable could carry too (``WEIR__CONTEXT__SECRETS__<NAME>``).
SecretName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Letters, digits, '_', '-' and '.', as in DB_PASSWORD.",
    ),
]
_admin = [Depends(admin_only("Setting and removing secrets"))]


@router.get("")
def list_secrets(ctx: Context) -> list[responses.SecretInfo]:
    with ctx.db.session() as session:
        return [responses.SecretInfo.model_validate(s) for s in secrets.list_all(session)]


@router.put("/{name}", dependencies=_admin)
def set_secret(
    name: SecretName, action: actions.SecretSet, ctx: Context, response: Response
) -> responses.SecretInfo:
    with ctx.db.session(write=True) as session:
        row, created = secrets.put(session, secrets.box_for(ctx.db), name, action.value)
        response.status_code = 201 if created else 200
        return responses.SecretInfo.model_validate(row)


@router.get("/{name}", dependencies=[Depends(writer_only("Reading a secret's value"))])
def read_secret(name: SecretName, ctx: Context) -> responses.SecretValue:
    with ctx.db.session() as session:
        value = secrets.read(session, secrets.box_for(ctx.db), name)
    return responses.SecretValue(name=name, value=value)


@router.delete("/{name}", dependencies=_admin)
def delete_secret(name: SecretName, ctx: Context) -> responses.SecretInfo:
    with ctx.db.session(write=True) as session:
        return responses.SecretInfo.model_validate(secrets.delete(session, name))
