"""Flows of flows under a real agent: a parent starts, waits for and reads child runs."""

from __future__ import annotations

import pytest

from weir.agent.testing import drive
from weir.client import Client
from weir.registration import register_flow
from weir.server.testing import clear
from weir.storage import Local
from weir.storage.scripts import flows_in_script

from .conftest import FLOWS


@pytest.fixture(params=["sqlite_server", "postgres_server"])
def client(request):
    server, db = request.getfixturevalue(request.param)
    clear(db)
    with Client(server.url) as c:
        yield c


@pytest.fixture
def register(client):
    flows = flows_in_script(FLOWS)

    def reg(*names: str) -> dict[str, str]:
        return {
            n: str(register_flow(flows[n], client=client, storage=Local(path=FLOWS), source=FLOWS))
            for n in names
        }

    return reg


@pytest.fixture
def agent(client, make_agent):
    """``agent(**options)``: a LocalAgent of the test's server (conftest's make_agent)."""
    return lambda **options: make_agent(url=client.api_url, **options)


def _run_to_success(client, agent, flow_id, parameters=None, max_runs=2, timeout=90):
    """Run the parent flow under one agent until it ends; it must succeed. The parent run."""
    parent = client.create_flow_run(flow_id, parameters=parameters or {})
    drive(agent(max_runs=max_runs), lambda: _finished(client, parent.id), timeout=timeout)
    assert client.get_flow_run(parent.id).state.type.value == "Success", _why(client, parent.id)
    return parent


def _why(client, run_id) -> str:
    run = client.get_flow_run(run_id)
    tasks = [
        (t.task_slug, t.state.type.value, t.state.message) for t in client.list_task_runs(run_id)
    ]
    logs = [log.message for log in client.get_logs(run_id).logs]
    return f"{run.state.message}\n{tasks}\n" + "\n".join(logs[-20:])


def _finished(client, run_id) -> bool:
    return client.get_flow_run(run_id).state.type.value in ("Success", "Failed", "Cancelled")


def test_a_parent_starts_waits_for_and_reads_a_child(client, register, agent, tmp_path):
    ids = register("child", "parent")
    out = tmp_path / "out.txt"
    parent = _run_to_success(client, agent, ids["parent"], {"path": str(out)})
    # The child ran with the context its parent gave it.
    assert out.read_text() == "[42, 'parent']"
    [child] = client.list_flow_runs(parent_flow_run_id=parent.id)
    assert child.flow_name == "child" and child.state.type.value == "Success"
    assert child.name == f"{parent.name}-child"
    # The child records the task run that started it; the parent's trace names the child.
    starter = [t for t in client.list_task_runs(parent.id) if t.task_slug == "create_flow_run-1"]
    assert child.parent_task_run_id == starter[0].id
    events = [e for e in client.get_trace(parent.id) if e.kind == "child_flow_run_created"]
    assert [e.data["child_flow_run_id"] for e in events] == [str(child.id)]
    # The child's logs were streamed into the parent's, named after the child.
    messages = [log.message for log in client.get_logs(parent.id).logs]
    assert any(child.name in m and "Success" in m for m in messages), messages
    assert f"[{child.name}] doubling 21" in messages


def test_mapped_children_one_per_item(client, register, agent, tmp_path):
    ids = register("child", "fan-out")
    out = tmp_path / "out.txt"
    parent = _run_to_success(client, agent, ids["fan-out"], {"path": str(out)}, 4, 120)
    assert out.read_text() == "[2, 4, 6]"
    children = client.list_flow_runs(parent_flow_run_id=parent.id)
    assert len(children) == 3 and len({c.parent_task_run_id for c in children}) == 3


def test_a_retried_parent_task_does_not_start_a_second_child(client, register, agent, tmp_path):
    ids = register("child", "retried-parent")
    flag = tmp_path / "started.txt"
    parent = _run_to_success(client, agent, ids["retried-parent"], {"path": str(flag)})
    [child] = client.list_flow_runs(parent_flow_run_id=parent.id)
    assert str(child.id) == flag.read_text()


def test_a_mapped_childs_results_one_by_index_or_all(client, register, agent, tmp_path):
    ids = register("mapped-child", "mapped-reader")
    out = tmp_path / "out.txt"
    _run_to_success(client, agent, ids["mapped-reader"], {"path": str(out)})
    assert out.read_text() == "[12, [10, 12, 14]]"


def test_start_flow_run_with_wait_ends_as_its_child_did(client, register, agent):
    ids = register("child", "start-flow-run")
    parent = _run_to_success(client, agent, ids["start-flow-run"])
    [child] = client.list_flow_runs(parent_flow_run_id=parent.id)
    assert child.state.type.value == "Success"
    [starter] = [
        t for t in client.list_task_runs(parent.id) if t.task_slug.startswith("StartFlowRun")
    ]
    assert starter.state.type.value == "Success" and child.parent_task_run_id == starter.id


def test_cancelling_the_parent_cancels_the_child_it_waits_for(client, register, agent):
    ids = register("nap", "waiting-parent")
    parent = client.create_flow_run(ids["waiting-parent"])
    # One run at a time: the child waits, Scheduled, behind its parent.
    runner = agent(max_runs=1)
    drive(runner, lambda: bool(client.list_flow_runs(parent_flow_run_id=parent.id)), timeout=60)
    [child] = client.list_flow_runs(parent_flow_run_id=parent.id)
    client.cancel_flow_run(parent.id)
    drive(runner, lambda: _finished(client, parent.id), timeout=60)
    assert client.get_flow_run(parent.id).state.type.value == "Cancelled"
    assert client.get_flow_run(child.id).state.type.value == "Cancelled"


def test_flow_run_show_links_parent_and_children(client, register, agent, tmp_path):
    from click.testing import CliRunner

    from weir.cli.main import cli

    ids = register("child", "parent")
    parent = _run_to_success(client, agent, ids["parent"], {"path": str(tmp_path / "o")})
    [child] = client.list_flow_runs(parent_flow_run_id=parent.id)
    env = {"WEIR_API_URL": client.api_url, "COLUMNS": "200"}
    shown = CliRunner().invoke(cli, ["flow-run", "show", str(parent.id)], env=env)
    assert "Flow runs it started" in shown.output and str(child.id) in shown.output
    shown = CliRunner().invoke(cli, ["flow-run", "show", str(child.id)], env=env)
    assert f"started by: {parent.name} ({parent.id}), task create_flow_run-1" in shown.output
