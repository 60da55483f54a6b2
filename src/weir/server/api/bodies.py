"""Request bodies read as bytes and validated by pydantic's JSON parser in one pass.

For the engine's large batches FastAPI's own body handling costs more than it
should: it decodes the JSON into Python objects with the standard library on
the event loop, then validates those objects. ``TypeAdapter.validate_json``
parses and validates the bytes together, in Rust, about a third faster for a
thousand task-run items, and a route can run it in its worker thread, off the
event loop. Errors come out as FastAPI's own do: a 422 whose ``detail`` names
each field as ``["body", <index>, <field>, ...]``.

An error echoes its ``input`` only in short (see ``shorten``): echoing a whole
refused batch back cost seconds of JSON encoding on the event loop, where no
other request was answered meanwhile. A batch with too many items is refused
by counting its items' ``flow_run_id`` keys in the bytes, before parsing:
parsing and validating are native code that holds the GIL, so a huge batch
would stop every other thread, the event loop's too, for as long as they run.
"""

from __future__ import annotations

import itertools
from collections.abc import Sized
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

#: Every batch item has this key. In valid JSON a quote inside a string is escaped, so the
#: bytes ``"flow_run_id":`` are a key, or end a key that opened with an escaped quote
#: (``"a \"flow_run_id":``), which are counted apart and taken off. A client that puts
#: a space before the colon is counted short: the exact check after validation holds.
_ITEM_KEY = b'"flow_run_id":'
_ESCAPED_KEY = b'\\"flow_run_id":'

#: How much of a refused value an error echoes.
_ECHO_CHARS = 200
_ECHO_ITEMS = 10
_ECHO_DEPTH = 3


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
        raise RequestValidationError(shorten(errors), body=body) from None


def refuse_many(body: bytes, limit: int, what: str = "the batch") -> None:
    """A 422 before parsing when ``body`` holds more than ``limit`` batch items."""
    # bytes.count is a fast search (~2 ms a megabyte); a regular expression was 30 times
    # slower, and holds the GIL all the same.
    count = body.count(_ITEM_KEY) - body.count(_ESCAPED_KEY)
    if count > limit:
        raise too_many(count, limit, ("body",), what)


def check_items(items: Sized | None, limit: int, loc: tuple[str, ...], what: str) -> None:
    """A 422 naming ``loc`` when ``items`` (validated) holds more than ``limit``."""
    if items is not None and len(items) > limit:
        raise too_many(len(items), limit, loc, what)


def too_many(count: int, limit: int, loc: tuple[str, ...], what: str) -> RequestValidationError:
    message = (
        f"{what} holds {count} items, more than the server's limit of {limit}; send smaller "
        "batches, or raise the limit with WEIR_SERVER_MAX_BATCH_ITEMS."
    )
    error = {"type": "too_long", "loc": loc, "msg": message[0].upper() + message[1:], "input": {}}
    return RequestValidationError([error])


def shorten(errors: list[Any]) -> list[Any]:
    """``errors`` with each ``input`` cut to a few items and characters."""
    for error in errors:
        if isinstance(error, dict) and "input" in error:
            error["input"] = _short(error["input"], 0)
    return errors


def _short(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= _ECHO_CHARS else value[:_ECHO_CHARS] + "…"
    if isinstance(value, dict | list) and depth >= _ECHO_DEPTH:
        return "…"
    if isinstance(value, dict):
        kept = itertools.islice(value.items(), _ECHO_ITEMS)
        out = {str(k): _short(v, depth + 1) for k, v in kept}
        if len(value) > _ECHO_ITEMS:
            out["…"] = f"{len(value) - _ECHO_ITEMS} more keys"
        return out
    if isinstance(value, list | tuple):
        items = [_short(v, depth + 1) for v in value[:_ECHO_ITEMS]]
        if len(value) > _ECHO_ITEMS:
            items.append(f"… {len(value) - _ECHO_ITEMS} more items")
        return items
    return value


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
