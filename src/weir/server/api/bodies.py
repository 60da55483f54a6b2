"""Request bodies read as bytes and validated by pydantic's JSON parser in one pass.

For the engine's large batches FastAPI's own body handling costs more than it
should: it decodes the JSON into Python objects with the standard library on
the event loop, then validates those objects. ``TypeAdapter.validate_json``
parses and validates the bytes together, in Rust, about a third faster for a
thousand task-run items, and a route can run it in its worker thread, off the
event loop. Errors come out as FastAPI's own do: a 422 whose ``detail`` names
each field as ``["body", <index>, <field>, ...]``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError


def validate_json(adapter: TypeAdapter[Any], body: bytes) -> Any:
    """``body`` validated by ``adapter``, or RequestValidationError naming the fields."""
    try:
        return adapter.validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for error in errors:
            error["loc"] = ("body", *error["loc"])
            if isinstance(error.get("input"), bytes):
                # Bytes that are not JSON (maybe not even UTF-8): not echoed back, as
                # FastAPI does not echo a body it could not decode.
                error["input"] = {}
        raise RequestValidationError(errors, body=body) from None


async def read_body(request: Request) -> bytes:
    return await request.body()


#: A route parameter that receives the request body as bytes (and adds nothing to the
#: OpenAPI spec: give the route ``openapi_extra=openapi_body(adapter)``).
RawBody = Annotated[bytes, Depends(read_body)]


def openapi_body(adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """An ``openapi_extra`` that documents ``adapter``'s type as the JSON request body.

    The schema is inlined (its ``$defs`` put in place of the references), since
    definitions nested in an operation are not visible to OpenAPI's ``$ref``.
    """
    schema = adapter.json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    content = {"application/json": {"schema": inline(schema)}}
    return {"requestBody": {"required": True, "content": content}}
