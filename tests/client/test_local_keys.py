"""The key ``weir up`` keeps in WEIR_HOME: private, and sent only to the local server it is for."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from weir.client import Client, settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("WEIR_API_KEY", raising=False)
    return tmp_path / "home"


def test_a_kept_key_is_private_and_found_for_its_local_server(home: Path) -> None:
    path = settings.save_local_key("http://127.0.0.1:4200/api/v1", "weir_a_b")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for url in (
        "http://127.0.0.1:4200/api/v1",
        "http://localhost:4200/api/v1/",
        "http://[::1]:4200/api/v1",
    ):
        assert settings.api_key(None, url) == "weir_a_b"
        assert Client(url).api_key == "weir_a_b"


def test_a_kept_key_goes_nowhere_else(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.save_local_key("http://127.0.0.1:4200/api/v1", "weir_a_b")
    for url in ("http://127.0.0.1:4300/api/v1", "http://weir.example.org:4200/api/v1"):
        assert settings.api_key(None, url) is None
    # A key given (argument or environment) wins.
    assert settings.api_key("weir_given", "http://127.0.0.1:4200/api/v1") == "weir_given"
    monkeypatch.setenv("WEIR_API_KEY", "weir_env")
    assert Client("http://127.0.0.1:4200/api/v1").api_key == "weir_env"
    with pytest.raises(ValueError, match="not a server on this machine"):
        settings.save_local_key("http://weir.example.org/api/v1", "k")


def test_keys_of_several_local_servers_are_kept_side_by_side(home: Path) -> None:
    settings.save_local_key("http://127.0.0.1:4200/api/v1", "weir_a_a")
    settings.save_local_key("http://127.0.0.1:4300/api/v1", "weir_b_b")
    assert settings.local_key("http://localhost:4200/api/v1") == "weir_a_a"
    assert settings.local_key("http://localhost:4300/api/v1") == "weir_b_b"
    (home / settings.LOCAL_KEYS).write_text("not json")
    assert settings.local_key("http://localhost:4200/api/v1") is None
