"""A test whose machine lacks an engine skips with how to install it, unless CI requires it."""

from __future__ import annotations

import pytest

from weir.server.testing import missing


def test_a_missing_engine_skips_and_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEIR_REQUIRE_ENGINES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y podman"):
        missing("podman", "install it with `apt-get install -y podman runc`.")


@pytest.mark.parametrize("value", ["1", "true"])
def test_a_missing_engine_fails_where_engines_are_required(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("WEIR_REQUIRE_ENGINES", value)
    with pytest.raises(pytest.fail.Exception, match="WEIR_REQUIRE_ENGINES"):
        missing("chromium", "install it with `apt-get install -y chromium`.")


def test_ci_requires_every_engine() -> None:
    from pathlib import Path

    script = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "export WEIR_REQUIRE_ENGINES=1" in script
