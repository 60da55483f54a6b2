"""The server's settings from its WEIR_* variables: every name, defaults, clear errors."""

from __future__ import annotations

import pytest

from weir.exceptions import ConfigurationError
from weir.server.settings import LOOPBACK_HOSTS, ServerSettings


def test_every_variable_sets_its_setting(monkeypatch, tmp_path):
    env = {
        "WEIR_DATABASE_URL": "sqlite:///elsewhere.db",
        "WEIR_DATABASE_SCHEMA": "weir",
        "WEIR_SERVER_AUTH": "yes",
        "WEIR_SERVER_ALLOWED_HOSTS": "a.example, B.example",
        "WEIR_SERVER_MAX_BODY_BYTES": "1000",
        "WEIR_SERVER_MAX_BATCH_ITEMS": "7",
        "WEIR_CLAIM_POLL_SECONDS": "0.5",
        "WEIR_SCHEDULER_MAX_RUNS": "4",
        "WEIR_SCHEDULER_HORIZON": "60",
        "WEIR_SCHEDULER_LOOP_SECONDS": "2",
        "WEIR_LAZARUS_HEARTBEAT_TIMEOUT": "9",
        "WEIR_LAZARUS_SUBMITTED_TIMEOUT": "8",
        "WEIR_LAZARUS_MAX_RESCHEDULES": "1",
        "WEIR_LAZARUS_LOOP_SECONDS": "0.5",
        "WEIR_SERVER_RETENTION": "2d",
        "WEIR_RETENTION_LOOP_SECONDS": "30",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = ServerSettings.from_env()
    assert (s.database_url, s.database_schema, s.auth) == ("sqlite:///elsewhere.db", "weir", True)
    assert s.allowed_hosts == (*LOOPBACK_HOSTS, "a.example", "b.example")
    assert (s.max_body_bytes, s.max_batch_items, s.claim_poll_seconds) == (1000, 7, 0.5)
    assert (s.scheduler.max_runs, s.scheduler.horizon, s.scheduler.loop_seconds) == (4, 60, 2)
    lazarus = s.lazarus
    assert (lazarus.heartbeat_timeout, lazarus.submitted_timeout) == (9, 8)
    assert (lazarus.max_reschedules, lazarus.loop_seconds) == (1, 0.5)
    assert (s.retention.retention, s.retention.loop_seconds) == (2 * 86400, 30)


def test_unset_or_empty_variables_leave_the_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("WEIR_HOME", str(tmp_path))
    monkeypatch.setenv("WEIR_SERVER_AUTH", "")
    monkeypatch.setenv("WEIR_DATABASE_URL", "")
    monkeypatch.delenv("WEIR_SERVER_MAX_BODY_BYTES", raising=False)
    s = ServerSettings.from_env()
    defaults = ServerSettings()
    assert s.database_url == f"sqlite:///{tmp_path / 'weir.db'}"
    assert (s.auth, s.max_body_bytes) == (defaults.auth, defaults.max_body_bytes)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("WEIR_SERVER_AUTH", "maybe", "true or false"),
        ("WEIR_SERVER_MAX_BATCH_ITEMS", "0", "a whole number above 0"),
        ("WEIR_LAZARUS_HEARTBEAT_TIMEOUT", "soon", "a number of seconds"),
    ],
)
def test_a_value_that_does_not_fit_names_its_variable(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=f"{name} must be {says}, not '{value}'"):
        ServerSettings.from_env()
