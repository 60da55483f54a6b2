"""The declared retry policies: what each tries again, how often, with which waits."""

from __future__ import annotations

import time

import httpx
import pytest

from weir.client import Client, retrying
from weir.client.retrying import API_CALL, HEARTBEAT, REPORT_DELIVERY, Policy
from weir.exceptions import ClientError, ConflictError, SupersededError
from weir.server.testing import free_port


class Enough(Exception):
    """Stops a long policy's waiting in a test."""


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    return waits


def failing(*errors: BaseException, then: object = "ok") -> tuple[list[int], object]:
    """A call that raises ``errors`` in turn, then returns ``then``; and its try count."""
    tries: list[int] = []

    def call() -> object:
        tries.append(1)
        if len(tries) <= len(errors):
            raise errors[len(tries) - 1]
        return then

    return tries, call


def unreachable() -> ClientError:
    try:
        raise httpx.ConnectError("refused")
    except httpx.ConnectError as cause:
        error = ClientError("Cannot reach the weir server")
        error.__cause__ = cause
        return error


def no_answer() -> ClientError:
    """A request that may have reached the server: the answer never came."""
    error = ClientError("Cannot reach the weir server")
    error.__cause__ = httpx.ReadTimeout("timed out")
    return error


def test_a_healthy_call_is_tried_once_without_tenacity(slept):
    tries, call = failing()
    assert API_CALL.call(call) == "ok" and len(tries) == 1 and slept == []


@pytest.mark.parametrize("status", [502, 503, 504])
def test_unavailable_is_waited_out_with_doubling_waits(slept, status):
    tries, call = failing(*[ClientError("busy", status) for _ in range(3)])
    assert API_CALL.call(call) == "ok"
    assert len(tries) == 4 and slept == [0.25, 0.5, 1.0]


@pytest.mark.parametrize("error", [ClientError("bad", 400), ConflictError("stale", 409)])
def test_refusals_are_never_tried_again(slept, error):
    for policy in (API_CALL, REPORT_DELIVERY):
        tries, call = failing(error)
        with pytest.raises(type(error)):
            policy.call(call)
        assert len(tries) == 1
    assert slept == []


def test_a_superseded_write_is_not_tried_again(slept):
    tries, call = failing(SupersededError("another attempt", 409))
    with pytest.raises(SupersededError):
        REPORT_DELIVERY.call(call, idempotent=False)
    assert len(tries) == 1 and slept == []


def test_a_call_stops_after_its_attempts_and_raises_the_last_error(slept):
    tries, call = failing(*[unreachable() for _ in range(9)])
    with pytest.raises(ClientError, match="Cannot reach"):
        API_CALL.call(call)
    assert len(tries) == 5 and slept == [0.25, 0.5, 1.0, 2.0]


def test_a_request_that_may_have_arrived_goes_again_only_when_that_is_harmless(slept):
    tries, call = failing(no_answer())
    with pytest.raises(ClientError):
        API_CALL.call(call, idempotent=False)  # a POST: it may have been done
    assert len(tries) == 1
    tries, call = failing(no_answer())
    assert API_CALL.call(call, idempotent=True) == "ok" and len(tries) == 2
    # The flow-run process's writes are made safe to repeat.
    tries, call = failing(no_answer())
    assert REPORT_DELIVERY.call(call, idempotent=False) == "ok" and len(tries) == 2
    # One that never left is sent again whatever its method.
    tries, call = failing(unreachable())
    assert API_CALL.call(call, idempotent=False) == "ok" and len(tries) == 2


def test_a_server_error_is_sent_three_times_by_the_reporter_and_once_otherwise(slept):
    tries, call = failing(*[ClientError("boom", 500) for _ in range(5)])
    with pytest.raises(ClientError, match="boom"):
        API_CALL.call(call)
    assert len(tries) == 1
    tries, call = failing(*[ClientError("boom", 500) for _ in range(5)])
    with pytest.raises(ClientError, match="boom"):
        REPORT_DELIVERY.call(call)
    assert len(tries) == 3
    # Outages in between do not count against the server errors' limit.
    tries, call = failing(
        ClientError("boom", 500), ClientError("away", 503), ClientError("boom", 500)
    )
    assert REPORT_DELIVERY.call(call) == "ok" and len(tries) == 4


def test_report_delivery_waits_grow_to_five_seconds_and_end_after_its_timeout(monkeypatch):
    clock = [1000.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(time, "sleep", sleep)
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    tries, call = failing(*[unreachable() for _ in range(1000)])
    with pytest.raises(ClientError, match="Cannot reach"):
        REPORT_DELIVERY.call(call)
    assert waits[:7] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    assert 600 <= sum(waits) < 600 + 5 and len(tries) == len(waits) + 1


def test_each_wait_is_logged_with_the_policy(slept, caplog):
    tries, call = failing(ClientError("busy", 503))
    with caplog.at_level("WARNING", logger=retrying.__name__):
        REPORT_DELIVERY.call(call, what="POST task_runs/batch")
    [record] = caplog.records
    assert "POST task_runs/batch" in record.message and "report delivery" in record.message
    assert "busy" in record.message and "0.20 s" in record.message


def test_a_client_adjusts_its_policy_and_lends_its_connections_to_another():
    with Client("http://127.0.0.1:1/api/v1", retries=2, backoff=0.1) as client:
        assert client.policy == API_CALL.replace(attempts=3, wait_initial=0.1)
        delivering = client.using(REPORT_DELIVERY)
        assert delivering.policy is REPORT_DELIVERY and client.policy.attempts == 3
        assert delivering._http is client._http


def test_a_reporter_call_is_tried_under_its_one_policy_not_inside_the_clients(monkeypatch):
    # Each of the policy's tries sends one request: no retries of the client's own
    # (four, with their waits) hide inside each of them.
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 4:
            raise Enough

    monkeypatch.setattr(time, "sleep", sleep)
    with Client(f"http://127.0.0.1:{free_port()}/api/v1") as client:
        delivering = client.using(REPORT_DELIVERY)
        with pytest.raises(Enough):
            delivering.request("POST", "task_runs/batch", json=[])
    assert waits == pytest.approx([0.2, 0.4, 0.8, 1.6])


def test_a_heartbeat_policy_tries_once(slept):
    tries, call = failing(unreachable())
    with pytest.raises(ClientError):
        HEARTBEAT.call(call)
    assert len(tries) == 1 and slept == []


def test_a_policy_is_plain_data():
    quick = Policy("quick", attempts=2, wait_initial=0.01)
    assert quick.replace(attempts=3) == Policy("quick", attempts=3, wait_initial=0.01)
