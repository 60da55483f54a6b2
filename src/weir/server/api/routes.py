"""The API's route class: a plain-function endpoint costs one trip to the thread pool.

FastAPI runs a plain (``def``) endpoint in its thread pool, then checks the answer
against the response model in the thread pool again: two trips per request, each
about a tenth of a millisecond of the server's CPU, for answers that are already
the response model. ``OneHopRoute`` hands such an endpoint to the pool itself,
inside a coroutine, so FastAPI checks the answer on the event loop: the endpoint
still never runs there (its database work would stall every other request).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


class OneHopRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_thread_pool(endpoint), **kwargs)


def in_thread_pool(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as a coroutine running it in the thread pool (a coroutine as it is).

    FastAPI reads the parameters, dependencies and response model through
    ``__wrapped__``, as for the function itself.
    """
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def call(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return call
