"""Refuse JSON bodies holding lone UTF-16 surrogates (``"\\ud800"``) with a 422.

JSON may spell a lone surrogate as an escape; Python decodes it into a string
that can be neither stored as UTF-8 nor sent back, so it would fail deep in a
driver or while answering. A cheap byte search finds the rare bodies that
might hold one, and only those are decoded and checked.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class LoneSurrogateGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(message, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _SURROGATE_ESCAPE.search(body) and _lone_surrogate_in(body):
            await _refuse(send)
            return
        first: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay(first, receive), send)


def _lone_surrogate_in(body: bytes) -> bool:
    try:
        return _has_lone_surrogate(json.loads(body))
    except (ValueError, RecursionError):
        return False  # not JSON: the route's own validation answers


def _replay(first: Message, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return replay


async def _refuse(send: Send) -> None:
    body = json.dumps(
        {
            "detail": "The request body holds a lone UTF-16 surrogate escape (such as \\ud800), "
            "which is not valid Unicode text; send valid UTF-8 strings."
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
