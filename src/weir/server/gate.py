"""The gate every request passes before routing: host name, API key, content type, size.

A pure ASGI middleware in front of everything else, so that a refused request is
refused before a byte of its body is read, and an accepted one never holds more
than the limit in memory:

1. ``Host`` must name this server (``ServerSettings.allowed_hosts``): a web page
   whose DNS name was pointed at 127.0.0.1 (DNS rebinding) gets 400.
2. With auth on, an API request needs a valid key before its body is read: reads
   take any role, writes an agent or admin key, ``/api_keys`` an admin key
   (401/403). The key is looked up again on every request, so revoking is instant;
   its role is left in the request's state for routes that ask more.
3. A write (POST, PUT, PATCH, DELETE) with a body must declare it JSON (415): a
   page on another site can make the browser post text/plain or a form without
   asking, but JSON only after a CORS preflight, which this server never grants.
   A write without a body or a type passes, unless a browser sent it from another
   site (its ``Origin`` is not this server).
4. A body over ``max_body_bytes`` gets 413: at once when its Content-Length says
   so, else as soon as the bytes streamed in pass the limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from weir.schemas.actions import Role
from weir.server.api.dependencies import API_KEYS_ACTION, API_PREFIX, ROLE_STATE, admin_refusal
from weir.server.settings import ServerSettings

#: API paths served without a key (the spec and its page show no data).
PUBLIC_PATHS = frozenset(
    f"{API_PREFIX}/{p}" for p in ("health", "openapi.json", "docs", "docs/oauth2-redirect")
)
ADMIN_PREFIX = f"{API_PREFIX}/api_keys"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITERS = frozenset({Role.ADMIN, Role.AGENT})

NO_KEY = (
    "This server needs an API key: send it as `Authorization: Bearer <key>` "
    "(WEIR_API_KEY or --api-key); create one with `weir server api-key create`."
)
BAD_KEY = "The API key is unknown or was revoked; ask an admin for a valid key."
NOT_JSON = (
    "A request that writes must send a JSON body with `Content-Type: application/json`; "
    "other types (forms, text/plain) are refused so that no web page can post to this "
    "server from another site."
)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the body streamed in passes the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large(limit))


def too_large(limit: int) -> str:
    return (
        f"The request body is larger than the server's limit of {limit} bytes; send less "
        "(e.g. smaller batches), or raise the limit with WEIR_SERVER_MAX_BODY_BYTES."
    )


def host_name(value: str) -> str:
    """The name in a ``Host`` header, without its port (``[::1]:4200`` -> ``::1``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(name: str, allowed: tuple[str, ...]) -> bool:
    for pattern in allowed:
        if pattern == "*" or pattern == name:
            return True
        if pattern.startswith("*.") and name.endswith(pattern[1:]):
            return True
    return False


class RequestGate:
    """See the module docstring; ``verify(key)`` gives a key's role, or None."""

    def __init__(
        self, app: ASGIApp, settings: ServerSettings, verify: Callable[[str], Role | None]
    ) -> None:
        self.app = app
        self.settings = settings
        self.verify = verify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        refusal = await self._refusal(scope, headers)
        if refusal is not None:
            await answer(send, *refusal)
            return
        limit = self.settings.max_body_bytes
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await answer(send, 413, too_large(limit))
            return
        started = False

        async def send_started(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _limited(receive, limit), send_started)
        except BodyTooLarge as exc:
            if started:
                raise
            await answer(send, 413, str(exc.detail))

    async def _refusal(
        self, scope: Scope, headers: dict[str, str]
    ) -> tuple[int, str, dict[str, str]] | None:
        host = headers.get("host")
        if host is not None and not host_allowed(host_name(host), self.settings.allowed_hosts):
            return 400, _host_refused(host_name(host)), {}
        path: str = scope["path"]
        method: str = scope["method"]
        if self.settings.auth and path.startswith(API_PREFIX) and path not in PUBLIC_PATHS:
            refused = await self._auth_refusal(scope, headers.get("authorization"))
            if refused is not None:
                return refused
        if method not in READ_METHODS and not _json_or_harmless(headers):
            return 415, NOT_JSON, {}
        return None

    async def _auth_refusal(
        self, scope: Scope, authorization: str | None
    ) -> tuple[int, str, dict[str, str]] | None:
        challenge = {"www-authenticate": "Bearer"}
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return 401, NO_KEY, challenge
        # The lookup reads the database: off the event loop, as every route's reads are.
        role = await run_in_threadpool(self.verify, key.strip())
        if role is None:
            return 401, BAD_KEY, challenge
        # For the routes that ask more (``dependencies.admin_only``), without a lookup.
        scope.setdefault("state", {})[ROLE_STATE] = role
        path: str = scope["path"]
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            if role is not Role.ADMIN:
                return 403, admin_refusal(API_KEYS_ACTION, role), {}
        elif scope["method"] not in READ_METHODS and role not in WRITERS:
            return (
                403,
                (
                    f"An API key with role {role.value} may only read; "
                    "this request writes, so use an agent or admin key."
                ),
                {},
            )
        return None


def _headers(scope: Scope) -> dict[str, str]:
    wanted = (b"host", b"content-type", b"content-length", b"authorization", b"origin")
    wanted += (b"transfer-encoding",)
    return {k.decode(): v.decode("latin-1") for k, v in scope["headers"] if k in wanted}


def _json_or_harmless(headers: dict[str, str]) -> bool:
    content_type = headers.get("content-type")
    if content_type is not None:
        return content_type.split(";", 1)[0].strip().lower() == "application/json"
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if has_body:
        return False
    origin = headers.get("origin")
    return origin is None or origin.partition("://")[2] == headers.get("host")


def _host_refused(name: str) -> str:
    return (
        f"This server does not answer for the host name {name!r}. If that name is yours, "
        f"add it with `weir server start --allowed-host {name}` (or WEIR_SERVER_ALLOWED_HOSTS)."
    )


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return limited


async def answer(
    send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    """A JSON ``{"detail": ...}`` answer, as the routes' own errors look."""
    body = json.dumps({"detail": detail}).encode()
    raw: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
