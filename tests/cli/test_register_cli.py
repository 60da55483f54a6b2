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
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if "│" in line[:3]}
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
    assert again.stdout.count("unchanged") == 3

    # The 'report' graph changes. 'etl' runs the script at its path: unchanged. 'shipped'
    # keeps a copy of the script, which changed: a new copy, so a new version.
    write(script, more=True)
    changed = invoke(str(script), "-p", "team", "-l", "etl", "-l", "prod")
    assert changed.exit_code == 0, changed.output
    rows = {line.split()[1]: line.split()[3:6] for line in changed.stdout.splitlines()[3:-1]}
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


OTHER = """
from weir import Flow, task


@task
def hello():
    return "hi"


with Flow("other") as other:
    hello()
"""


def test_several_scripts_and_a_folder_register_together(tmp_path, invoke, api_url):
    folder = tmp_path / "flows"
    folder.mkdir()
    write(folder / "a.py")
    (folder / "b.py").write_text(OTHER)
    (folder / "notes.txt").write_text("not a script")
    single = tmp_path / "single.py"
    single.write_text(OTHER.replace('"other"', '"single"'))
    result = invoke(str(folder), str(single), "-p", "many")
    assert result.exit_code == 0, result.output
    with Client(api_url) as client:
        names = {f.name for f in client.list_flows(project="many")}
    assert names == {"etl", "report", "shipped", "other", "single"}
    assert "SCRIPT" in result.output and "single.py" in result.output


def test_json_output_lists_each_flow_for_scripts(tmp_path, invoke):
    import json

    script = write(tmp_path / "flows.py")
    result = invoke(str(script), "-n", "etl", "--json")
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert item["flow"] == "etl" and item["created"] is True and item["version"] == 1
    assert item["script"] == str(script.resolve()) and len(item["id"]) == 36
    again = json.loads(invoke(str(script), "-n", "etl", "--json").stdout)
    assert again[0]["created"] is False and again[0]["id"] == item["id"]


def test_a_broken_script_among_others_is_reported_and_the_rest_registered(
    tmp_path, invoke, api_url
):
    import json

    (tmp_path / "bad.py").write_text("raise ValueError('no config')\n")
    (tmp_path / "good.py").write_text(OTHER)
    result = invoke(str(tmp_path), "-p", "mixed", "--json")
    assert result.exit_code == 1
    outcome = {item["flow"]: item for item in json.loads(result.stdout)}
    assert "no config" in outcome["-"]["error"]
    assert outcome["other"]["created"] is True
    with Client(api_url) as client:
        assert [f.name for f in client.list_flows(project="mixed")] == ["other"]


def test_a_script_that_registers_itself_is_registered_once(tmp_path, invoke, api_url):
    script = tmp_path / "selfreg.py"
    script.write_text(OTHER + '\nother.register(project_name="elsewhere")\n')
    with pytest.warns(UserWarning, match="is skipped"):
        result = invoke(str(script), "-p", "here")
    assert result.exit_code == 0, result.output
    with Client(api_url) as client:
        assert [f.project for f in client.list_flows(name="other")] == ["here"]
