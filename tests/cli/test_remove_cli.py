"""``weir flow-run rm``, ``weir flow rm`` and ``--retention``, against a live server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from weir.cli.main import cli
from weir.client import Client
from weir.exceptions import ObjectNotFound

FLOW = {"name": "etl", "tasks": [], "edges": [], "reference_tasks": [], "schedule": None}


@pytest.fixture
def invoke(api_url):
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        env = {"WEIR_API_URL": api_url, "COLUMNS": "250"}
        return runner.invoke(cli, list(args), env=env, input=input, catch_exceptions=False)

    return run


def _finished_run(api_url: str) -> str:
    with Client(api_url) as c:
        flow = c.register_flow(FLOW).flow
        run = c.create_flow_run(flow.id)
        c.cancel_flow_run(run.id)
    return str(run.id)


def test_flow_run_rm_asks_first_and_deletes(api_url, invoke):
    run_id = _finished_run(api_url)
    kept = invoke("flow-run", "rm", run_id, input="n\n")
    assert kept.exit_code == 1 and "Aborted" in kept.output
    assert "Cancelled" in kept.output and "Delete it" in kept.output
    with Client(api_url) as c:
        assert c.get_flow_run(run_id)
    deleted = invoke("flow-run", "rm", run_id, input="y\n")
    assert deleted.exit_code == 0, deleted.output
    assert f"Deleted flow run etl-{run_id.replace('-', '')[:8]} ({run_id})" in deleted.output
    with Client(api_url) as c, pytest.raises(ObjectNotFound):
        c.get_flow_run(run_id)


def test_flow_run_rm_yes_skips_the_question_and_takes_a_short_id(api_url, invoke):
    run_id = _finished_run(api_url)
    deleted = invoke("flow-run", "rm", run_id.replace("-", "")[:8], "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert "Delete it" not in deleted.output and "Deleted flow run" in deleted.output


def test_flow_run_rm_of_a_running_run_says_to_cancel(api_url, invoke):
    with Client(api_url) as c:
        flow = c.register_flow(FLOW).flow
        run = c.create_flow_run(flow.id)
        [claimed] = c.claim()
        c.set_flow_run_state(run.id, {"type": "Running"}, claimed.version)
    refused = invoke("flow-run", "rm", str(run.id), "--yes")
    assert refused.exit_code == 1
    assert "cancel it first" in refused.output and "Traceback" not in refused.output


def test_client_delete_flow_run_and_archive_flow(api_url):
    run_id = _finished_run(api_url)
    with Client(api_url) as c:
        c.delete_flow_run(run_id)
        with pytest.raises(ObjectNotFound):
            c.delete_flow_run(run_id)
        [flow] = c.list_flows()
        archived = c.archive_flow(flow.id)
        assert archived.archived and archived.id == flow.id
        assert c.list_flows() == []


def test_flow_rm_archives_by_name_after_asking(api_url, invoke):
    with Client(api_url) as c:
        flow = c.register_flow(FLOW).flow
    kept = invoke("flow", "rm", "etl", input="n\n")
    assert kept.exit_code == 1 and "Archive it?" in kept.output
    archived = invoke("flow", "rm", "etl", input="y\n")
    assert archived.exit_code == 0, archived.output
    assert f"Archived flow etl v1 ({flow.id})" in archived.output
    with Client(api_url) as c:
        assert c.get_flow(flow.id).archived
    missing = invoke("flow", "rm", "etl", "--yes")
    assert missing.exit_code == 1 and "no current flow called 'etl'" in missing.output


def test_flow_rm_asks_which_project_when_several_have_the_name(api_url, invoke):
    with Client(api_url) as c:
        c.register_flow(FLOW, project="a")
        other = c.register_flow(FLOW, project="b").flow
    ambiguous = invoke("flow", "rm", "etl", "--yes")
    assert ambiguous.exit_code == 1 and "--project" in ambiguous.output
    archived = invoke("flow", "rm", "etl", "--project", "b", "--yes")
    assert archived.exit_code == 0 and str(other.id) in archived.output
    by_id = invoke("flow", "rm", str(other.id), "--yes")
    assert by_id.exit_code == 0, by_id.output


@pytest.mark.parametrize("command", [["server", "start"], ["server", "services"], ["up"]])
def test_a_bad_retention_is_a_usage_error(command):
    result = CliRunner().invoke(cli, [*command, "--retention", "30"])
    assert result.exit_code == 2
    assert "such as 30d, 12h or 90m" in result.output
