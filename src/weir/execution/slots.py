"""Concurrency slots taken where a task runs: in a worker process or on a Dask worker.

A slot must be held while the task runs, and under the process and Dask executors
it runs away from the flow-run process and its :class:`ApiReporter`. So the
reporter hands the runner a :class:`RemoteSlots` (``ApiReporter.remote_slots()``):
it pickles to the API URL, API key and flow-run id, and on the worker asks the
server itself. The engine only sees its ``acquire_slots``, ``release_slots`` and
``cancel_requested`` (see ``weir.engine.remote``).

Each worker process keeps one HTTP client per server and key, made on first use:
a tagged task pays for a connection once per process, not once per run.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from weir.client import Client
from weir.client.retrying import REPORT_DELIVERY
from weir.exceptions import ObjectNotFound

__all__ = ["RemoteSlots"]

_clients: dict[tuple[int, str, str | None], Client] = {}
_clients_lock = threading.Lock()


def _client(api_url: str, api_key: str | None) -> Client:
    # Keyed by pid too: a client inherited through fork shares its sockets with the parent.
    key = (os.getpid(), api_url, api_key)
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = Client(api_url, api_key)
    return client


class RemoteSlots:
    """Takes and gives back one flow run's concurrency slots over HTTP, from anywhere."""

    __slots__ = ("api_url", "api_key", "flow_run_id", "_no_limits", "_client")

    def __init__(
        self, api_url: str, api_key: str | None, flow_run_id: str, *, client: Client | None = None
    ) -> None:
        self.api_url = api_url
        self.api_key = api_key
        self.flow_run_id = flow_run_id
        self._no_limits = False
        #: The flow-run process's own client (the reporter's); never pickled.
        self._client = client

    def __repr__(self) -> str:
        # Never the key: this object travels to workers and may end up in their logs.
        return f"RemoteSlots({self.api_url!r}, flow_run_id={self.flow_run_id!r})"

    def __getstate__(self) -> tuple[str, str | None, str]:
        return (self.api_url, self.api_key, self.flow_run_id)

    def __setstate__(self, state: tuple[str, str | None, str]) -> None:
        self.api_url, self.api_key, self.flow_run_id = state
        self._no_limits = False
        self._client = None

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        client = self._client or _client(self.api_url, self.api_key)
        return client.request(method, path, json=body, policy=REPORT_DELIVERY)

    def acquire_slots(self, tags: list[str], key: str) -> bool:
        """Take a slot of each tag's limit for the task run ``key``; False: wait and ask again."""
        if self._no_limits:
            return True
        body = {"tags": tags, "task_run_key": key, "flow_run_id": self.flow_run_id}
        try:
            answer = self._request("POST", "concurrency_limits/acquire", body)
        except ObjectNotFound:
            # A server without concurrency limits: nothing to wait for.
            self._no_limits = True
            return True
        return bool(answer.get("granted"))

    def release_slots(self, key: str) -> None:
        if self._no_limits:
            return
        self._request("POST", "concurrency_limits/release", {"task_run_key": key})

    def cancel_requested(self) -> bool:
        # Asked only between two acquire attempts, so one more request there is cheap;
        # the heartbeat that tells the flow-run process lives in that process.
        run = self._request("GET", f"flow_runs/{self.flow_run_id}")
        return bool(run.get("cancel_requested"))
