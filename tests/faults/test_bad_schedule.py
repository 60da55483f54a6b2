"""A real server process refuses bad schedules, and one bad stored flow holds no other back.

The server runs as users run it (``weir server start`` with its services, a short
scheduler loop). Bad schedules sent over HTTP are 422s; a flow with a bad
schedule written straight into the database (as one stored before registration
checked schedules would be) does not keep a good flow from getting its runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from weir.server.database.engine import Database
from weir.server.testing import free_port, store_flow_unchecked
from weir.utilities.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]

BAD_SCHEDULES = [
    {"clocks": [{"type": "CronClock", "cron": "not a cron"}]},
    {"clocks": [{"type": "CronClock", "cron": "61 * * * *"}]},
    {
        "clocks": [
            {
                "type": "IntervalClock",
                "interval": 60,
                "start_date": "2024-01-01T00:00[Mars/Olympus]",
            }
        ]
    },
    {"clocks": [{"type": "IntervalClock", "interval": 60, "start_date": "not-a-date"}]},
    {"clocks": [{"type": "SundialClock"}]},
]
GOOD = {
    "clocks": [{"type": "IntervalClock", "interval": 60, "start_date": "2020-01-01T00:00:00+00:00"}]
}


def _flow(name: str, schedule: object) -> dict:
    return {"name": name, "tasks": [], "edges": [], "parameters": [], "schedule": schedule}


def _insert_bad_flow(url: str) -> uuid.UUID:
    """A flow whose schedule fails, written past the door as an old row would be."""
    db = Database(url)
    try:
        return store_flow_unchecked(db, _flow("stored-bad", BAD_SCHEDULES[1]))
    finally:
        db.dispose()


def _healthy(api: httpx.Client) -> bool:
    try:
        return api.get("/health").status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def server(tmp_path: Path):
    port = free_port()
    url = f"sqlite:///{tmp_path / 'weir.db'}"
    env = {**os.environ, "WEIR_SCHEDULER_LOOP_SECONDS": "0.2", "WEIR_HOME": str(tmp_path)}
    log = (tmp_path / "server.log").open("w")
    command = [sys.executable, "-m", "weir", "server", "start"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--database-url", url],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10)
    try:
        wait_until(lambda: _healthy(api) or process.poll() is not None, 60)
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        yield api, url, tmp_path / "server.log"
    finally:
        api.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


def test_bad_schedules_are_refused_and_a_stored_one_stops_no_other_flow(server):
    api, url, log = server
    for index, schedule in enumerate(BAD_SCHEDULES):
        response = api.post("/flows", json={"serialized_flow": _flow(f"bad-{index}", schedule)})
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["loc"][:5] == ["body", "serialized_flow", "schedule", "clocks", 0]
    assert api.get("/flows", params={"include_archived": True}).json() == []

    bad_id = _insert_bad_flow(url)
    response = api.post("/flows", json={"serialized_flow": _flow("good", GOOD)})
    assert response.status_code == 201, response.text
    good_id = response.json()["flow"]["id"]

    def good_runs() -> list[dict]:
        return api.get("/flow_runs", params={"flow_id": good_id}).json()  # type: ignore[no-any-return]

    wait_until(lambda: len(good_runs()) >= 10, 10)
    assert all(run["state"]["type"] == "Scheduled" for run in good_runs())
    assert api.get("/flow_runs", params={"flow_id": str(bad_id)}).json() == []
    # Many passes met the bad flow; it was said once.
    text = log.read_text()
    assert text.count(f"({bad_id})") == 1, text
