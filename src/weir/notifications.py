"""Notifications: state handlers that tell the outside world about state changes.

``webhook(url, on=(Failed,))`` makes a handler for tasks and flows alike::

    alert = webhook("https://hooks.example.org/weir", on=(Failed, TimedOut))
    @task(state_handlers=[alert])
    def load(): ...
    flow = Flow("etl", state_handlers=[alert])

When the new state is one of ``on``, it POSTs a JSON body naming the flow or task,
the run, the state and its message. A webhook that fails is logged and never fails
the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from weir.context import context
from weir.engine.state import Failed, State

logger = logging.getLogger(__name__)

__all__ = ["webhook", "webhook_payload"]


def webhook_payload(obj: Any, new: State) -> dict[str, Any]:
    """The JSON body a webhook sends for ``obj`` (a Task or a Flow) entering ``new``."""
    from weir.core.flow import Flow

    is_flow = isinstance(obj, Flow)
    return {
        "kind": "flow_run" if is_flow else "task_run",
        "flow_name": obj.name if is_flow else context.get("flow_name"),
        "flow_run_id": context.get("flow_run_id"),
        "task_name": None if is_flow else obj.name,
        "task_slug": None if is_flow else context.get("task_slug"),
        "map_index": None if is_flow else context.get("map_index"),
        "state": new.name,
        "message": new.message,
        "timestamp": new.ts,
    }


def webhook(
    url: str,
    on: Iterable[type[State]] = (Failed,),
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> Callable[[Any, State, State], None]:
    """A state handler that POSTs to ``url`` when a task or flow enters one of ``on``."""
    kinds = tuple(on)
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"webhook url must start with http:// or https://, got {url!r}.")

    def handler(obj: Any, old: State, new: State) -> None:
        if not isinstance(new, kinds):
            return
        body = webhook_payload(obj, new)
        try:
            response = httpx.post(url, json=body, headers=headers, timeout=timeout)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            logger.warning("Webhook %s for %s %s failed: %s", url, body["kind"], new.name, exc)

    handler.__name__ = f"webhook({url})"
    return handler
