"""Log and trace batches sent again are stored once: lines carry (sender_id, seq)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

SENDER = str(uuid.uuid4())


def _log(run_id: str, n: int, sender: str | None = SENDER) -> dict[str, Any]:
    line: dict[str, Any] = {
        "flow_run_id": run_id,
        "task_slug": "extract-1",
        "timestamp": 1e9 + n,
        "message": f"line {n}",
    }
    if sender is not None:
        line.update(sender_id=sender, seq=n)
    return line


def _event(run_id: str, n: int, sender: str | None = SENDER) -> dict[str, Any]:
    event: dict[str, Any] = {
        "flow_run_id": run_id,
        "kind": "retry_scheduled",
        "timestamp": 1e9 + n,
        "data": {"n": n},
    }
    if sender is not None:
        event.update(sender_id=sender, seq=n)
    return event


def _stored_logs(client: Any, run_id: str) -> list[int]:
    page = client.get(f"/flow_runs/{run_id}/logs", params={"limit": 10_000}).json()
    return [int(line["message"].split()[1]) for line in page["logs"]]


def _stored_events(client: Any, run_id: str) -> list[int]:
    trace = client.get(f"/flow_runs/{run_id}/trace").json()
    return [e["data"]["n"] for e in trace if e["kind"] == "retry_scheduled"]


# (endpoint, one item, what is stored, in the order read back)
KINDS = {
    "logs": ("/logs/batch", _log, _stored_logs),
    "trace": ("/trace/batch", _event, _stored_events),
}


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Any:
    return KINDS[request.param]


@pytest.fixture
def run_id(client: Any, register: Any, create_run: Any) -> str:
    return str(create_run(client, register(client)["id"])["id"])


def _post(client: Any, path: str, items: list[dict[str, Any]]) -> int:
    response = client.post(path, json=items)
    assert response.status_code == 201, response.text
    return int(response.json()["count"])


def test_a_batch_sent_twice_is_stored_once(client, run_id, kind):
    path, item, stored = kind
    batch = [item(run_id, n) for n in range(1000)]
    assert _post(client, path, batch) == 1000
    assert _post(client, path, batch) == 0
    assert stored(client, run_id) == list(range(1000))


def test_a_batch_mixing_stored_and_new_lines_writes_the_new_ones_in_order(client, run_id, kind):
    path, item, stored = kind
    assert _post(client, path, [item(run_id, n) for n in (0, 1, 2)]) == 3
    # A retry of an older batch overlapping the next one, new lines in between.
    assert _post(client, path, [item(run_id, n) for n in (1, 3, 2, 4, 5)]) == 3
    assert stored(client, run_id) == [0, 1, 2, 3, 4, 5]


def test_a_line_twice_in_one_batch_is_stored_once(client, run_id, kind):
    path, item, stored = kind
    assert _post(client, path, [item(run_id, 0), item(run_id, 1), item(run_id, 0)]) == 2
    assert stored(client, run_id) == [0, 1]


def test_lines_without_identity_are_stored_every_time(client, run_id, kind):
    path, item, stored = kind
    batch = [item(run_id, n, sender=None) for n in range(3)]
    assert _post(client, path, batch) == 3
    assert _post(client, path, batch) == 3
    # With lines that have one, in the same batch: only those are skipped.
    mixed = [*batch, item(run_id, 7)]
    assert _post(client, path, mixed) == 4
    assert _post(client, path, mixed) == 3
    assert sorted(stored(client, run_id)) == sorted([0, 1, 2] * 4 + [7])


def test_another_sender_s_numbers_are_its_own(client, run_id, kind):
    """A run started again numbers its lines from 0 again, under a new sender id."""
    path, item, stored = kind
    assert _post(client, path, [item(run_id, n) for n in range(3)]) == 3
    again = str(uuid.uuid4())
    assert _post(client, path, [item(run_id, n, sender=again) for n in range(3)]) == 3
    assert sorted(stored(client, run_id)) == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("seq", [-1, 2**63, "x"])
def test_a_bad_seq_is_refused(client, run_id, kind, seq):
    path, item, _ = kind
    line = {**item(run_id, 0), "seq": seq}
    assert client.post(path, json=[line]).status_code == 422
