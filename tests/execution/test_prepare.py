"""What a spare process does ahead of its run: the client it makes is used only if still right."""

from __future__ import annotations

import gc

import pytest

from weir.execution import flow_run


@pytest.fixture(autouse=True)
def _unfreeze():
    yield
    gc.unfreeze()


def test_the_prepared_client_serves_the_run_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_API_URL", "http://127.0.0.1:4200/api/v1")
    monkeypatch.delenv("WEIR_API_KEY", raising=False)
    flow_run.prepare()
    prepared = flow_run._prepared[1]  # type: ignore[index]
    assert flow_run._client() is prepared
    assert flow_run._client() is not prepared  # taken once: the next run makes its own


def test_a_prepared_client_for_other_settings_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIR_API_URL", "http://127.0.0.1:4200/api/v1")
    flow_run.prepare()
    prepared = flow_run._prepared[1]  # type: ignore[index]
    monkeypatch.setenv("WEIR_API_KEY", "a-key-the-run-was-given")  # the run's env set it
    client = flow_run._client()
    assert client is not prepared
    assert client._http.headers["Authorization"] == "Bearer a-key-the-run-was-given"
