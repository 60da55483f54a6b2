"""PrefectSecret and Secret locally: the context, the environment, JSON values, masking."""

from __future__ import annotations

import logging
import time

import pytest

from weir import Flow, context, task, unmapped
from weir.client import Secret
from weir.client.secrets import SecretNotFound
from weir.engine.remote import RemoteOutcome, replay
from weir.engine.reporter import InMemoryReporter
from weir.engine.state import Failed, Success
from weir.executors import ProcessExecutor
from weir.masking import mask
from weir.tasks.secrets import PrefectSecret, SecretBase


@task
def show(value):
    show.logger.info("the value is %s", value)
    return value


def run_with(secret: PrefectSecret, **run_kwargs):
    with Flow("secrets") as flow:
        out = show(secret)
    reporter = InMemoryReporter()
    state = flow.run(reporter=reporter, **run_kwargs)
    return state, state.result[out], reporter


@pytest.fixture(autouse=True)
def no_server(monkeypatch):
    # A secret not found locally would be asked of the server this shell points at.
    monkeypatch.delenv("WEIR_API_URL", raising=False)


def test_a_secret_from_the_context(monkeypatch):
    state, out, _ = run_with(PrefectSecret("PW"), context={"secrets": {"PW": "hunter22"}})
    assert isinstance(state, Success) and out.result == "hunter22"


def test_a_secret_from_the_environment_prefect_1_style(monkeypatch):
    monkeypatch.setenv("WEIR__CONTEXT__SECRETS__API_TOKEN", "tok-from-env")
    _, out, _ = run_with(PrefectSecret("API_TOKEN"))
    assert out.result == "tok-from-env"


def test_the_context_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("WEIR__CONTEXT__SECRETS__PW", "from-env")
    _, out, _ = run_with(PrefectSecret("PW"), context={"secrets": {"PW": "from-context"}})
    assert out.result == "from-context"


def test_json_text_becomes_its_value_as_in_prefect_1():
    secrets = {"CFG": '{"host": "db", "port": 5432}', "PLAIN": "not json"}
    with context(secrets=secrets):
        assert Secret("CFG").get() == {"host": "db", "port": 5432}
        assert Secret("PLAIN").get() == "not json"
        assert Secret("CFG").exists() and not Secret("NOPE").exists()


def test_a_missing_secret_fails_the_task_saying_where_to_set_it():
    state, _, _ = run_with(PrefectSecret("MISSING"))
    [secret_state] = [s for t, s in state.result.items() if t.name == "MISSING"]
    assert isinstance(secret_state, Failed)
    assert 'Secret "MISSING" was not found' in secret_state.message
    assert "WEIR__CONTEXT__SECRETS__MISSING" in secret_state.message
    with pytest.raises(SecretNotFound):
        Secret("MISSING").get()


def test_the_name_can_be_given_when_the_task_is_called():
    secret = PrefectSecret()
    with Flow("late-name") as flow:
        out = show(secret(name="LATE"))
    state = flow.run(context={"secrets": {"LATE": "given-late"}})
    assert state.result[out].result == "given-late"


def test_a_secret_is_masked_in_the_run_log_and_the_tasks_logger(caplog):
    with caplog.at_level(logging.INFO, logger="weir"):
        _, out, reporter = run_with(
            PrefectSecret("PW"), context={"secrets": {"PW": "correct-horse-battery"}}
        )
    assert out.result == "correct-horse-battery"
    lines = [record["message"] for _, _, record in reporter.logs]
    assert "the value is ****" in lines
    assert not any("correct-horse-battery" in line for line in lines)
    assert not any("correct-horse-battery" in r.getMessage() for r in caplog.records)
    assert mask("x correct-horse-battery y") == "x **** y"


def test_a_secret_is_never_checkpointed_and_takes_no_result():
    assert PrefectSecret("PW").checkpoint is False
    with pytest.raises(ValueError, match="never checkpointed"):
        PrefectSecret("PW", checkpoint=True)
    from weir.engine.results import LocalResult

    with pytest.raises(ValueError, match="cannot be configured"):
        SecretBase(result=LocalResult())


def test_reading_a_secret_while_building_a_flow_is_refused():
    with pytest.raises(ValueError, match="use a PrefectSecret task"):
        with Flow("building"):
            Secret("PW").get()


@task
def slowly_show(value, i):
    time.sleep(0.05)  # long enough that both workers take some of the children
    slowly_show.logger.info("child %s sees %s", i, value)


def test_a_secret_read_in_one_worker_is_masked_when_another_logs_it():
    # The secret is read in one worker process; the children that log it run in both,
    # and the one that never read it does not know to mask it: the run's process does.
    with Flow("secrets-across-workers") as flow:
        value = PrefectSecret("ACROSS")
        slowly_show.map(unmapped(value), list(range(8)))
    reporter = InMemoryReporter()
    state = flow.run(
        executor=ProcessExecutor(max_workers=2),
        reporter=reporter,
        context={"secrets": {"ACROSS": "worker-secret-value"}},
    )
    assert state.is_successful()
    lines = [r["message"] for _, _, r in reporter.logs if r["message"].startswith("child")]
    assert len(lines) == 8
    assert all(line.endswith("sees ****") for line in lines), lines


def test_replay_masks_what_the_run_s_process_learnt_from_a_worker():
    outcome = RemoteOutcome(
        Success(),
        [
            ("secrets", ("learnt-from-a-worker",)),
            ("log", "t-1", None, {"message": "token learnt-from-a-worker", "level": 20}),
        ],
    )
    reporter = InMemoryReporter()
    replay(outcome, reporter)
    assert [r["message"] for _, _, r in reporter.logs] == ["token ****"]
    assert mask("again learnt-from-a-worker") == "again ****"


def test_env_var_secret_reads_casts_and_masks_the_variable(monkeypatch, caplog):
    from weir.tasks.secrets import EnvVarSecret

    monkeypatch.setenv("PORT_NUMBER_SECRET", "54321")
    state, out, reporter = run_with(EnvVarSecret("PORT_NUMBER_SECRET", cast=int))
    assert state.is_successful() and out.result == 54321
    lines = [record["message"] for _, _, record in reporter.logs]
    assert "the value is ****" in lines
    monkeypatch.delenv("PORT_NUMBER_SECRET")
    _, unset, _ = run_with(EnvVarSecret("PORT_NUMBER_SECRET", cast=int))
    assert unset.is_successful() and unset.result is None  # as in Prefect 1
    with Flow("missing") as flow:
        secret = EnvVarSecret("PORT_NUMBER_SECRET", raise_if_missing=True)()
    missing = flow.run().result[secret]
    assert isinstance(missing, Failed) and "PORT_NUMBER_SECRET is not set" in missing.message
