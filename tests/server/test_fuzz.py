"""Schemathesis over the OpenAPI spec: no generated request may get a 5xx answer.

Each operation gets a bounded number of generated requests: valid ones with
random ids, valid ones aimed at objects that exist (so the deep paths run) and
invalid ones, on SQLite and on PostgreSQL; the whole run stays well under a minute.
"""

from __future__ import annotations

import re

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from weir.server.app import create_app  # noqa: E402
from weir.server.settings import ServerSettings  # noqa: E402

# Seconds a route on either backend: the run grows with the API, hence its own timeout.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

#: Per operation and kind of request (valid, invalid, aimed at existing objects): each
#: route gets every kind, and the run stays about a minute on two cores.
EXAMPLES = 5


def _existing_ids(client, register, create_run) -> dict[str, str]:
    flow = register(client)
    run = create_run(client, flow["id"])
    [written] = client.post(
        "/task_runs/batch",
        json=[{"flow_run_id": run["id"], "task_slug": "extract-1", "state": {"type": "Running"}}],
    ).json()
    agent = client.post("/agents", json={"name": "fuzz"}).json()
    key = client.post("/api_keys", json={"name": "fuzz"}).json()
    project = client.get("/projects").json()[0]
    limit = client.put("/concurrency_limits/fuzz-tag", json={"limit": 2}).json()
    secret = client.put("/secrets/FUZZ_SECRET", json={"value": "fuzz-value"}).json()
    return {
        "tag": limit["tag"],
        "name": secret["name"],
        "flow_id": flow["id"],
        "flow_run_id": run["id"],
        "task_run_id": written["task_run_id"],
        "agent_id": agent["id"],
        "key_id_or_prefix": key["prefix"],
        "project_id": project["id"],
    }


def test_no_generated_request_gets_a_server_error(db, make_client, register, create_run):
    ids = _existing_ids(make_client(), register, create_run)
    # Claims may ask to wait up to a minute; here a tenth of a second is plenty. Schemathesis
    # calls the app as host "testserver", a name the server must be told to answer.
    settings_ = ServerSettings(
        database_url=db.url, max_claim_wait=0.1, allowed_hosts=("testserver",)
    )
    app = create_app(settings_, db=db, migrate=False)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    failures: list[str] = []

    def check_all(strategy) -> None:
        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            response = case.call()
            if response.status_code >= 500:
                failures.append(
                    f"{case.as_curl_command()}\n  -> {response.status_code} {response.text[:300]}"
                )

        try:
            check()
        except Unsatisfiable:
            pass  # e.g. no invalid request exists for an operation without inputs

    for operation in operations:
        names = re.findall(r"\{(\w+)\}", operation.path)
        check_all(operation.as_strategy())
        check_all(operation.as_strategy(GenerationMode.NEGATIVE))
        if names:
            check_all(operation.as_strategy(path_parameters={n: ids[n] for n in names}))
    assert not failures, "\n".join(failures[:10])
