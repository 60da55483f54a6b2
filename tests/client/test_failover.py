"""Several server URLs: a client fails over to the next when one cannot be reached.

A real server on loopback (``live_server``), a port nobody listens on (a server
that is down), and a socket that accepts and hangs up without answering (a server
killed while it handled the request: it may have applied it).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from weir.agent import LocalAgent
from weir.client import Client
from weir.client.retrying import REPORT_DELIVERY
from weir.client.settings import api_urls
from weir.exceptions import ClientError, ConfigurationError
from weir.server.testing import free_port


def _down() -> str:
    return f"http://127.0.0.1:{free_port()}/api/v1"


@pytest.fixture
def hangs_up() -> Iterator[tuple[str, list[int]]]:
    """A URL whose server reads each request and closes without answering; and a count
    of the requests it took."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.05)  # so that the thread sees ``done`` soon
    taken: list[int] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                taken.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1", taken
    finally:
        done.set()
        thread.join(5)
        listener.close()


def test_urls_come_comma_separated_from_the_environment(monkeypatch):
    monkeypatch.setenv("WEIR_API_URL", "http://a:4200/api/v1/, http://b:4200/api/v1,")
    assert api_urls() == ("http://a:4200/api/v1", "http://b:4200/api/v1")
    with Client() as client:
        assert client.api_url == "http://a:4200/api/v1,http://b:4200/api/v1"
        assert client.server_url == "http://a:4200/api/v1"


def test_a_server_that_is_down_is_skipped_and_the_next_kept(api_url):
    down = _down()
    with Client(f"{down},{api_url}", retries=0) as client:
        # No retry needed: a request that could not connect reached nobody, so the next
        # server gets it at once.
        assert client.health().status == "ok"
        assert client.server_url == api_url
        client.create_project("kept")
        assert client.server_url == api_url
        assert "kept" in {p.name for p in client.list_projects()}


def test_every_server_down_is_one_clear_error():
    first, second = _down(), _down()
    with Client(f"{first},{second}", retries=1, backoff=0.01) as client:
        with pytest.raises(ClientError, match="Cannot reach the weir server at any of"):
            client.health()


def test_a_write_that_may_have_arrived_is_not_sent_to_the_next_server(api_url, hangs_up):
    url, taken = hangs_up
    with Client(f"{url},{api_url}") as client:
        with pytest.raises(ClientError, match="Cannot reach"):
            client.create_project("maybe-made")  # a POST: sending it twice may apply it twice
        assert len(taken) == 1
        # The next call goes to the next server; the write was not repeated there.
        assert client.server_url == api_url
        assert "maybe-made" not in {p.name for p in client.list_projects()}


def test_a_write_safe_to_repeat_goes_to_the_next_server(api_url, hangs_up):
    url, taken = hangs_up
    policy = REPORT_DELIVERY.replace(timeout=10.0, wait_initial=0.01)
    with Client(f"{url},{api_url}", policy=policy) as client:
        client.create_project("sent-again")
        assert len(taken) == 1
        assert "sent-again" in {p.name for p in client.list_projects()}


def test_an_agent_gives_its_runs_every_url(api_url):
    both = f"{_down()},{api_url}"
    agent = LocalAgent(api_url=both)
    try:
        assert agent.base_env()["WEIR_API_URL"] == both
    finally:
        agent.client.close()


def test_a_list_without_a_url_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="names no server"):
        Client(" , ")
