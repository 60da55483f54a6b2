"""weir.utilities.logging: the ``weir`` logger's level and its terminal handler, set up from
WEIR__LOGGING__* as Prefect 1's from PREFECT__LOGGING__*, without touching the root logger."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from weir.exceptions import ConfigurationError
from weir.utilities.logging import (
    ENV_DATEFMT,
    ENV_FORMAT,
    ENV_LEVEL,
    ENV_TERMINAL,
    TerminalHandler,
    configure_logging,
    ensure_configured,
    get_logger,
    reset_logging,
)


@pytest.fixture(autouse=True)
def fresh_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test sets logging up from scratch; the next run sets it up from the environment."""
    for name in (ENV_LEVEL, ENV_FORMAT, ENV_DATEFMT, ENV_TERMINAL):
        monkeypatch.delenv(name, raising=False)
    reset_logging()
    yield
    reset_logging()


def terminal_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger("weir").handlers if isinstance(h, TerminalHandler)]


def test_defaults_are_prefect_1s(capsys: pytest.CaptureFixture[str]) -> None:
    weir = configure_logging()
    assert weir.level == logging.INFO
    [handler] = terminal_handlers()
    get_logger("etl").info("hello %s", "there")
    get_logger("etl").debug("not shown")
    err = capsys.readouterr().err
    assert err.endswith(" INFO - weir.etl | hello there\n")
    assert err.startswith("[") and "not shown" not in err
    assert handler.formatter is not None
    assert handler.formatter.datefmt == "%Y-%m-%d %H:%M:%S%z"


def test_level_format_and_datefmt_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_LEVEL, "debug")
    monkeypatch.setenv(ENV_FORMAT, "%(levelname)s %(name)s %(message)s")
    ensure_configured()
    get_logger("etl").debug("visible")
    assert capsys.readouterr().err == "DEBUG weir.etl visible\n"


def test_a_bad_level_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_LEVEL, "loud")
    with pytest.raises(ConfigurationError, match=r"WEIR__LOGGING__LEVEL must be one of DEBUG"):
        configure_logging()
    with pytest.raises(ConfigurationError, match=r"level must be one of .*'x'"):
        configure_logging(level="x")
    monkeypatch.setenv(ENV_TERMINAL, "maybe")
    with pytest.raises(ConfigurationError, match="WEIR__LOGGING__TERMINAL must be true or false"):
        configure_logging(level="INFO")


def test_a_level_the_application_set_is_kept_unless_one_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logging.getLogger("weir").setLevel(logging.WARNING)
    assert configure_logging().level == logging.WARNING
    monkeypatch.setenv(ENV_LEVEL, "ERROR")
    assert configure_logging().level == logging.ERROR
    assert configure_logging(level="DEBUG").level == logging.DEBUG


def test_configuring_again_replaces_only_its_own_handler() -> None:
    mine = logging.StreamHandler(io.StringIO())
    weir = logging.getLogger("weir")
    weir.addHandler(mine)
    try:
        configure_logging()
        configure_logging()
        assert len(terminal_handlers()) == 1 and mine in weir.handlers
        configure_logging(terminal=False)
        assert terminal_handlers() == [] and mine in weir.handlers
    finally:
        weir.removeHandler(mine)


def test_terminal_false_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_TERMINAL, "false")
    ensure_configured()
    assert terminal_handlers() == []
    assert logging.getLogger("weir").level == logging.INFO


def test_the_root_logger_is_left_alone() -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    configure_logging(level="DEBUG")
    assert (root.level, list(root.handlers)) == before
    assert logging.getLogger("weir").propagate  # the application's handlers get weir's records


def test_a_given_stream_and_the_stream_of_the_moment(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    configure_logging(stream=out, fmt="%(message)s")
    get_logger().warning("to the stream")
    assert out.getvalue() == "to the stream\n" and capsys.readouterr().err == ""
    configure_logging(fmt="%(message)s")
    get_logger().warning("to stderr")
    assert capsys.readouterr().err == "to stderr\n"


def test_secrets_are_masked_on_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from weir.masking import remember

    configure_logging(fmt="%(message)s")
    remember("s3cr3t-value")
    logging.getLogger("weir.engine.anything").warning("token s3cr3t-value used")
    assert capsys.readouterr().err == "token **** used\n"
