"""The flow-run process's and the client's settings, read from the environment when needed."""

from __future__ import annotations

import pytest

from weir.client import settings as client_settings
from weir.exceptions import ConfigurationError
from weir.execution.settings import FlowRunSettings


def test_flow_run_settings_default_and_follow_the_environment(monkeypatch):
    for name in ("FLOW_RUN_ATTEMPT", "HEARTBEAT_SECONDS", "MAX_LOCAL_RETRY_WAIT", "LOG_LEVEL"):
        monkeypatch.delenv(f"WEIR_{name}", raising=False)
    assert FlowRunSettings.read() == FlowRunSettings(
        flow_run_attempt="", heartbeat_seconds=5.0, max_local_retry_wait=10.0, log_level="INFO"
    )
    monkeypatch.setenv("WEIR_FLOW_RUN_ATTEMPT", "3")
    monkeypatch.setenv("WEIR_HEARTBEAT_SECONDS", "0.5")
    monkeypatch.setenv("WEIR_MAX_LOCAL_RETRY_WAIT", "")  # empty: the default
    monkeypatch.setenv("WEIR_LOG_LEVEL", "DEBUG")
    settings = FlowRunSettings.read()
    assert (settings.flow_run_attempt, settings.heartbeat_seconds) == ("3", 0.5)
    assert (settings.max_local_retry_wait, settings.log_level) == (10.0, "DEBUG")


def test_a_flow_run_setting_that_does_not_fit_names_its_variable(monkeypatch):
    monkeypatch.setenv("WEIR_HEARTBEAT_SECONDS", "often")
    with pytest.raises(ConfigurationError, match="WEIR_HEARTBEAT_SECONDS must be a number"):
        FlowRunSettings.read()


def test_the_client_reads_its_url_and_key_at_each_call(monkeypatch, tmp_path):
    monkeypatch.setenv("WEIR_HOME", str(tmp_path))
    monkeypatch.setenv("WEIR_API_URL", "")
    monkeypatch.delenv("WEIR_API_KEY", raising=False)
    assert client_settings.api_url() == client_settings.DEFAULT_API_URL
    assert client_settings.api_key() is None
    monkeypatch.setenv("WEIR_API_URL", "http://127.0.0.9:9/api/v1/")
    monkeypatch.setenv("WEIR_API_KEY", "weir_k")
    assert client_settings.api_url() == "http://127.0.0.9:9/api/v1"
    assert client_settings.api_key() == "weir_k"
    assert client_settings.api_url("http://given/api/v1") == "http://given/api/v1"
