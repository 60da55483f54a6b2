"""API keys over HTTP (admin only): create, list, revoke."""

from __future__ import annotations

from fastapi import APIRouter

from weir.schemas import actions, responses
from weir.server.api.dependencies import Context
from weir.server.models import api_keys

router = APIRouter(prefix="/api_keys", tags=["api keys"])


@router.post("", status_code=201)
def create_api_key(action: actions.ApiKeyCreate, ctx: Context) -> responses.ApiKeyCreated:
    with ctx.db.session(write=True) as session:
        row, key = api_keys.create(session, action.name, action.role)
        return responses.ApiKeyCreated(**responses.ApiKey.model_validate(row).model_dump(), key=key)


@router.get("")
def list_api_keys(ctx: Context) -> list[responses.ApiKey]:
    with ctx.db.session() as session:
        return [responses.ApiKey.model_validate(k) for k in api_keys.list_all(session)]


@router.delete("/{key_id_or_prefix}")
def revoke_api_key(key_id_or_prefix: str, ctx: Context) -> responses.ApiKey:
    with ctx.db.session(write=True) as session:
        return responses.ApiKey.model_validate(api_keys.revoke(session, key_id_or_prefix))
