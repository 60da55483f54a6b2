"""Where the client finds the server and its key: arguments, then environment, then defaults.

Without a key given (argument or ``WEIR_API_KEY``), a client of a server on this
machine takes the key ``weir up`` keeps for it in ``$WEIR_HOME/local_keys.json``
(0600, in a 0700 directory): the CLI, agents and flow runs of this user reach
their private local server without being told, and nobody else has the key. A
key is only ever sent to the loopback URL it was made for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict

from weir.exceptions import ConfigurationError
from weir.utilities.home import weir_home

DEFAULT_API_URL = "http://127.0.0.1:4200/api/v1"
#: The environment variable an agent gives a flow-run process its run's attempt in.
ATTEMPT_ENV = "WEIR_FLOW_RUN_ATTEMPT"
#: The keys ``weir up`` made, by the API URL of its server.
LOCAL_KEYS = "local_keys.json"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class ClientSettings(BaseSettings):
    """The client's environment variables: ``WEIR_API_URL``, ``WEIR_API_KEY``.

    Unset or empty, a variable leaves its default. Made anew where it is needed
    (cheap), so that a variable set since counts.
    """

    model_config = SettingsConfigDict(env_prefix="WEIR_", env_ignore_empty=True, extra="ignore")

    api_url: str = DEFAULT_API_URL
    api_key: str | None = None


def api_url(given: str | None = None) -> str:
    """The server's URL, or several servers' URLs comma-separated (see ``api_urls``)."""
    return ",".join(api_urls(given))


def api_urls(given: str | None = None) -> tuple[str, ...]:
    """The URLs of the servers to try, in order: ``given``, else ``WEIR_API_URL``.

    Several servers of one database are given comma-separated
    (``http://a:4200/api/v1,http://b:4200/api/v1``); a client fails over from one to
    the next when it cannot connect.
    """
    text = given or ClientSettings().api_url
    urls = tuple(dict.fromkeys(u.strip().rstrip("/") for u in text.split(",") if u.strip()))
    if not urls:
        raise ConfigurationError(
            f"WEIR_API_URL (or --api-url) {text!r} names no server: give one, e.g. "
            f"{DEFAULT_API_URL}, or several comma-separated."
        )
    return urls


def api_key(given: str | None = None, url: str | None = None) -> str | None:
    """The key given, else ``WEIR_API_KEY``, else the local key for ``url`` (if any;
    the first of several URLs that has one)."""
    key = given or ClientSettings().api_key or None
    if key is None and url is not None:
        key = next(filter(None, map(local_key, api_urls(url))), None)
    return key


def local_url(url: str) -> str | None:
    """``url`` spelled one way for every loopback name (None if it is not on this machine)."""
    parts = urlsplit(url.rstrip("/"))
    if parts.hostname not in _LOOPBACK:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://127.0.0.1:{port}{parts.path}"


def local_key(url: str) -> str | None:
    """The key ``weir up`` keeps for the local server at ``url``, if there is one."""
    local = local_url(url)
    if local is None:
        return None
    keys = _read_local_keys()
    key = keys.get(local)
    return key if isinstance(key, str) else None


def save_local_key(url: str, key: str) -> Path:
    """Keep ``key`` for the local server at ``url`` (the file and its directory private)."""
    local = local_url(url)
    if local is None:
        raise ValueError(f"{url} is not a server on this machine; its key is not kept here.")
    home = weir_home()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = {**_read_local_keys(), local: key}
    path = home / LOCAL_KEYS
    partial = path.with_name(f".{LOCAL_KEYS}.{os.getpid()}")
    # Created 0600 (never readable by others, not even for a moment), then swapped in.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(keys, out, indent=2)
    os.replace(partial, path)
    return path


def _read_local_keys() -> dict[str, object]:
    try:
        data = json.loads((weir_home() / LOCAL_KEYS).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
