"""Prefect 1's notification handlers: ``callback_factory`` and ``slack_notifier``.

Both are state handlers for tasks and flows alike::

    @task(state_handlers=[slack_notifier(only_states=[Failed])])
    def load(): ...

``slack_notifier`` posts a Slack message (an incoming webhook's attachment)
naming the task or flow, its new state and the state's message or exception.
The webhook's URL is the secret ``SLACK_WEBHOOK_URL`` (or the one named by
``webhook_secret``), read as any secret is: ``context.secrets``, then
``WEIR__CONTEXT__SECRETS__<NAME>``, then the server's store. Under a server the
message links to the run's page.

One difference from Prefect 1, on purpose: a notification that cannot be sent is
logged as a warning and does not fail the task or flow it reports on (Prefect 1
failed it), since the run itself went as its state says.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from weir.context import context
from weir.engine.state import State
from weir.state_types import StateType

logger = logging.getLogger(__name__)

__all__ = ["callback_factory", "slack_message_formatter", "slack_notifier"]

Handler = Callable[[Any, State, State], State]

#: Slack's attachment colour by the kind of state (weir's states carry no colour).
_COLOURS = {
    StateType.SUCCESS: "#2e7d32",
    StateType.CACHED: "#2e7d32",
    StateType.FAILED: "#c62828",
    StateType.TRIGGER_FAILED: "#c62828",
    StateType.TIMED_OUT: "#c62828",
    StateType.CANCELLED: "#6d4c41",
    StateType.SKIPPED: "#9e9e9e",
}
_DEFAULT_COLOUR = "#1565c0"


def callback_factory(fn: Callable[[Any, State], Any], check: Callable[[State], bool]) -> Handler:
    """A state handler that calls ``fn(obj, new_state)`` when ``check(new_state)`` is True."""

    def state_handler(obj: Any, old_state: State, new_state: State) -> State:
        if check(new_state) is True:
            fn(obj, new_state)
        return new_state

    return state_handler


def slack_message_formatter(
    tracked_obj: Any, state: State, backend_info: bool = True
) -> dict[str, Any]:
    """The JSON body of a Slack incoming webhook for ``tracked_obj`` entering ``state``."""
    kind = type(state).__name__
    if isinstance(state.result, BaseException):
        value: str | None = f"```{state.result!r}```"
    else:
        value = state.message
    fields = [] if value is None else [{"title": "Message", "value": value, "short": False}]
    attachment: dict[str, Any] = {
        "fallback": "State change notification",
        "color": _COLOURS.get(state.type, _DEFAULT_COLOUR),
        "author_name": "weir",
        "title": kind,
        "fields": fields,
        "text": f"{tracked_obj.name} is now in a {kind} state",
        "footer": "weir notification",
    }
    link = _run_page() if backend_info else None
    if link is not None:
        attachment["title_link"] = link
    return {"attachments": [attachment]}


def _run_page() -> str | None:
    """The UI page of the flow run in progress, when it runs under a server."""
    flow_run_id = context.get("flow_run_id")
    if not flow_run_id:
        return None
    from weir.client.settings import ClientSettings

    url = ClientSettings().api_url.split(",")[0].strip().rstrip("/")
    base = url.removesuffix("/api/v1")
    return f"{base}/flow-runs/{flow_run_id}"


def slack_notifier(
    tracked_obj: Any = None,
    old_state: State | None = None,
    new_state: State | None = None,
    *,
    ignore_states: Iterable[type[State]] | None = None,
    only_states: Iterable[type[State]] | None = None,
    webhook_secret: str | None = None,
    backend_info: bool = True,
    proxies: str | None = None,
) -> Any:
    """Post a Slack message when a task or flow changes state.

    Used as a handler itself (``state_handlers=[slack_notifier]``: every state), or
    called with options only to make one (``slack_notifier(only_states=[Failed])``).

    Args:
        ignore_states: state classes not to report.
        only_states: report only these state classes (and their subclasses).
        webhook_secret: the secret holding the webhook URL (``SLACK_WEBHOOK_URL``).
        backend_info: link the message to the run's page when under a server.
        proxies: an HTTP proxy URL for the request.
    """
    if tracked_obj is None:
        return functools.partial(
            slack_notifier,
            ignore_states=ignore_states,
            only_states=only_states,
            webhook_secret=webhook_secret,
            backend_info=backend_info,
            proxies=proxies,
        )
    assert new_state is not None, "slack_notifier is called as (obj, old_state, new_state)"
    if any(isinstance(new_state, kind) for kind in ignore_states or ()):
        return new_state
    only = tuple(only_states or ())
    if only and not isinstance(new_state, only):
        return new_state
    _post(tracked_obj, new_state, webhook_secret or "SLACK_WEBHOOK_URL", backend_info, proxies)
    return new_state


def _post(
    tracked_obj: Any, state: State, secret: str, backend_info: bool, proxies: str | None
) -> None:
    import httpx

    from weir.client.secrets import Secret, SecretNotFound

    try:
        url = str(Secret(secret).get())
    except SecretNotFound as exc:
        logger.warning("Slack notification for %s not sent: %s", tracked_obj.name, exc)
        return
    body = slack_message_formatter(tracked_obj, state, backend_info)
    try:
        with httpx.Client(proxy=proxies, timeout=10.0) as http:
            http.post(url, json=body).raise_for_status()
    except httpx.HTTPError as exc:
        logger.warning("Slack notification for %s failed: %s", tracked_obj.name, exc)
