"""A run under the local agent reads a server secret; the value never reaches its logs."""

from __future__ import annotations

import pytest

from weir.agent import LocalAgent
from weir.agent.testing import drive
from weir.client import Client
from weir.registration import register_flow
from weir.server.models import secrets
from weir.server.testing import clear
from weir.storage import Local
from weir.storage.scripts import flows_in_script

from .conftest import FLOWS

#: A real agent starts a real flow-run process: integration, as conftest's agent fixtures are.
pytestmark = [pytest.mark.slow, pytest.mark.integration]

VALUE = "s3cr3t-under-agent"


@pytest.fixture(params=["sqlite_server", "postgres_server"])
def server_url(request, monkeypatch, tmp_path):
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "server-home"))
    secrets._boxes.clear()
    server, db = request.getfixturevalue(request.param)
    clear(db)
    yield server.url
    secrets._boxes.clear()


def test_a_run_reads_a_server_secret_and_its_logs_mask_it(server_url, tmp_path):
    seen = tmp_path / "seen.txt"
    with Client(server_url) as client:
        client.set_secret("DB_PASSWORD", VALUE)
        flow = flows_in_script(FLOWS)["secret-reader"]
        flow_id = register_flow(flow, client=client, storage=Local(path=FLOWS), source=FLOWS)
        run = client.create_flow_run(flow_id, parameters={"path": str(seen)})
        agent = LocalAgent(api_url=server_url, env={"WEIR_HOME": str(tmp_path / "home")})
        try:
            agent.run_once(wait=5)
            drive(agent, lambda: not agent.running, timeout=60)
        finally:
            agent.shutdown(grace_period=0)
            agent.client.close()
        assert client.get_flow_run(run.id).state.type.value == "Success"
        assert seen.read_text() == VALUE
        messages = [log.message for log in client.get_logs(run.id).logs]
        assert "connecting with password ****" in messages
        assert not any(VALUE in m for m in messages), messages
        assert VALUE not in str([s.model_dump() for s in client.list_secrets()])
