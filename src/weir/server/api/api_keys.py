"""API keys over HTTP (admin only): create, list, revoke."""

from __future__ import annotations

from weir.schemas import actions, responses
from weir.server.api.dependencies import Context, api_router, authorize_admin
from weir.server.models import api_keys

router = api_router("/api_keys", "api keys", guard=authorize_admin)


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
