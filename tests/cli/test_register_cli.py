"""``weir register PATH`` through Click's runner against a live server (SQLite, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from weir.cli.main import cli
from weir.client import Client
from weir.storage import storage_from_dict

SCRIPT = """
from weir import Flow, Parameter, task
from weir.storage import Remote


@task
def add(x, y=1):
    return x + y


with Flow("etl") as etl:
    add(Parameter("n", default=1))

with Flow("report") as report:
    add(2){more}

with Flow("shipped", storage=Remote({bucket!r})) as shipped:
    add(3)
"""


@pytest.fixture
def invoke(api_url):
    runner = CliRunner()

    def run(*args: str):
        env = {"WEIR_API_URL": api_url, "COLUMNS": "250"}
        return runner.invoke(cli, ["register", *args], env=env, catch_exceptions=False)

    return run


def write(path: Path, more: bool = False) -> Path:
    """The script; ``more`` adds a task to 'report'."""
    bucket = (path.parent / "bucket").as_uri() + "/"
    path.write_text(SCRIPT.format(more="\n    add(4)" if more else "", bucket=bucket))
    return path


def test_register_registers_each_flow_then_reports_them_unchanged(tmp_path, invoke, api_url):
    script = write(tmp_path / "flows.py")
    result = invoke(str(script), "--project", "team", "--label", "etl", "-l", "prod")
    assert result.exit_code == 0, result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if "│" in line[:3]}
    assert {"etl", "report", "shipped"} <= set(lines)
    assert all("new" in lines[n] and "team" in lines[n] for n in ("etl", "report", "shipped"))
    with Client(api_url) as client:
        flows = {f.name: f for f in client.list_flows(project="team", full=True)}
    assert set(flows) == {"etl", "report", "shipped"}
    assert flows["etl"].labels == ["etl", "prod"]
    assert flows["etl"].storage == {
        "type": "Local",
        "flows": {"etl": str(script.resolve())},
        "path": str(script.resolve()),
        "stored_as_script": True,
    }
    # A flow that chose its own storage keeps it.
    assert flows["shipped"].storage["type"] == "Remote"
    loaded = storage_from_dict(flows["shipped"].storage).get_flow("shipped")
    assert loaded.serialize() == flows["shipped"].serialized_flow

    again = invoke(str(script), "--project", "team", "--label", "etl", "-l", "prod")
    assert again.exit_code == 0, again.output
    assert again.output.count("unchanged") == 3

    # The 'report' graph changes. 'etl' runs the script at its path: unchanged. 'shipped'
    # keeps a copy of the script, which changed: a new copy, so a new version.
    write(script, more=True)
    changed = invoke(str(script), "-p", "team", "-l", "etl", "-l", "prod")
    assert changed.exit_code == 0, changed.output
    rows = {line.split()[1]: line.split()[3:6] for line in changed.output.splitlines()[3:-1]}
    assert rows == {
        "etl": ["1", "│", "unchanged"],
        "report": ["2", "│", "new"],
        "shipped": ["2", "│", "new"],
    }


def test_a_relative_path_is_stored_absolute(tmp_path, invoke, monkeypatch, api_url):
    write(tmp_path / "flows.py")
    monkeypatch.chdir(tmp_path)
    assert invoke("flows.py", "-n", "etl").exit_code == 0
    with Client(api_url) as client:
        [flow] = client.list_flows(name="etl")
    assert flow.storage["path"] == str((tmp_path / "flows.py").resolve())


def test_a_script_without_flows_is_an_error(tmp_path, invoke):
    (tmp_path / "empty.py").write_text("x = 1\n")
    result = invoke(str(tmp_path / "empty.py"))
    assert result.exit_code == 1
    assert "defines no flow at module level" in result.output


def test_an_unknown_flow_name_lists_the_scripts_flows(tmp_path, invoke):
    result = invoke(str(write(tmp_path / "flows.py")), "--name", "nope")
    assert result.exit_code == 1
    assert "no flow named 'nope'" in result.output and "'etl', 'report', 'shipped'" in result.output


def test_a_script_that_fails_is_reported_without_a_traceback(tmp_path, invoke):
    (tmp_path / "bad.py").write_text("raise ValueError('no config')\n")
    result = invoke(str(tmp_path / "bad.py"))
    assert result.exit_code == 1
    assert "Loading the flow script" in result.output and "no config" in result.output
    assert "Traceback" not in result.output


def test_a_missing_path_is_a_usage_error(tmp_path, invoke):
    result = invoke(str(tmp_path / "nowhere.py"))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_an_unreachable_server_is_a_clean_error(tmp_path):
    from weir.server.testing import free_port

    script = write(tmp_path / "flows.py")
    env = {"WEIR_API_URL": f"http://127.0.0.1:{free_port()}/api/v1"}
    result = CliRunner().invoke(cli, ["register", str(script), "-n", "etl"], env=env)
    assert result.exit_code == 1 and "Cannot reach the weir server" in result.output
