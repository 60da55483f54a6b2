"""``weir secret set / ls / rm`` against a live server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from weir.cli.main import cli
from weir.client import Client
from weir.server.models import secrets


@pytest.fixture
def invoke(api_url, monkeypatch, tmp_path):
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "home"))
    secrets._boxes.clear()
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        env = {"WEIR_API_URL": api_url, "COLUMNS": "200"}
        return runner.invoke(cli, ["secret", *args], env=env, input=input)

    yield run
    secrets._boxes.clear()


def test_set_ls_rm(invoke, api_url):
    assert invoke("set", "DB_PASSWORD", "hunter22").exit_code == 0
    piped = invoke("set", "TOKEN", input="from-stdin\n")
    assert piped.exit_code == 0, piped.output
    assert invoke("set", "CFG", '{"a": [1, 2]}', "--json").exit_code == 0
    listed = invoke("ls")
    assert listed.exit_code == 0
    assert all(n in listed.output for n in ("DB_PASSWORD", "TOKEN", "CFG"))
    assert "hunter22" not in listed.output and "from-stdin" not in listed.output
    with Client(api_url) as client:
        assert client.get_secret("TOKEN") == "from-stdin"
        assert client.get_secret("CFG") == {"a": [1, 2]}
    removed = invoke("rm", "TOKEN")
    assert removed.exit_code == 0 and "Removed the secret TOKEN" in removed.output
    missing = invoke("rm", "TOKEN")
    assert missing.exit_code == 1 and "no secret named 'TOKEN'" in missing.output


def test_bad_json_is_refused_before_anything_is_sent(invoke):
    result = invoke("set", "CFG", "{not json", "--json")
    assert result.exit_code == 2 and "drop --json" in result.output
    assert "CFG" not in invoke("ls").output
