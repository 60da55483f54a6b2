"""``weir.utilities.logging``: Prefect 1's ``get_logger``, and the log lines a local run prints.

weir logs on the ``weir`` logger and its children, named as Prefect 1's were with
``prefect`` changed to ``weir``:

- ``weir.FlowRunner``: a flow run's beginning and end;
- ``weir.TaskRunner``: task runs (their start and end at DEBUG, their errors at ERROR);
- ``weir.<task name>``: a task's ``self.logger`` and ``context.logger`` in its runs
  (``weir.<task name>[k]`` in mapped child ``k``); ``weir.<flow name>``: ``flow.logger``.

The first flow run in a process (or the first ``get_logger``, ``task.logger`` or
``flow.logger``) calls :func:`configure_logging`, which gives the ``weir`` logger its
level (``WEIR__LOGGING__LEVEL``, INFO by default, as ``PREFECT__LOGGING__LEVEL``) and
one handler that prints its records to the terminal (standard error) in Prefect 1's
layout. Nothing else is touched: not the root logger, not its handlers, not other
libraries' loggers. ``weir``'s records still propagate to the root logger, so the
application's own handlers get them too (a root handler that prints to the terminal
prints them a second time: set ``WEIR__LOGGING__TERMINAL=false``, or call
``configure_logging(terminal=False)``, to leave the printing to it).

This module imports nothing of weir's but the leaf modules ``weir.masking`` and
``weir.exceptions``, so every layer may use it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any, TextIO

from weir.exceptions import ConfigurationError
from weir.masking import MASKING_FILTER

__all__ = ["DEFAULT_DATEFMT", "DEFAULT_FORMAT", "configure_logging", "get_logger"]

#: Prefect 1's ``logging.format`` and ``logging.datefmt``.
DEFAULT_FORMAT = "[%(asctime)s] %(levelname)s - %(name)s | %(message)s"
DEFAULT_DATEFMT = "%Y-%m-%d %H:%M:%S%z"
DEFAULT_LEVEL = "INFO"

#: The settings, as environment variables (Prefect 1: ``PREFECT__LOGGING__*``). Read with
#: ``os.environ``, not pydantic-settings: importing pydantic would cost a plain local run
#: (which loads nothing of it otherwise) more than a small flow takes to run.
ENV_LEVEL = "WEIR__LOGGING__LEVEL"
ENV_FORMAT = "WEIR__LOGGING__FORMAT"
ENV_DATEFMT = "WEIR__LOGGING__DATEFMT"
ENV_TERMINAL = "WEIR__LOGGING__TERMINAL"

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FALSE = frozenset({"0", "false", "no", "off"})
_TRUE = frozenset({"1", "true", "yes", "on"})

_lock = threading.Lock()
_configured = False


class TerminalHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Prints records on the ``sys.stderr`` of the moment, secrets masked.

    The stream is looked up at each record (as ``logging.lastResort`` does), so a
    redirect made after the handler was set up, or a test runner's capture, is followed.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self._fixed = stream
        self.addFilter(MASKING_FILTER)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        # StreamHandler.__init__ sets it; the stream is chosen at each record instead.
        pass


def configure_logging(
    level: str | int | None = None,
    fmt: str | None = None,
    datefmt: str | None = None,
    terminal: bool | None = None,
    stream: TextIO | None = None,
) -> logging.Logger:
    """Set up the ``weir`` logger: its level and the handler that prints its records.

    Each argument left out comes from its environment variable (``WEIR__LOGGING__LEVEL``,
    ``…__FORMAT``, ``…__DATEFMT``, ``…__TERMINAL``), then from Prefect 1's defaults.
    Without a level given either way, a level the application set on ``weir`` itself
    is kept. Calling it again replaces the handler it added before (never another's).
    ``stream``: where to print (standard error of the moment by default).
    """
    global _configured
    env = os.environ
    with _lock:
        weir = logging.getLogger("weir")
        chosen = level if level is not None else (env.get(ENV_LEVEL) or None)
        if chosen is not None:
            weir.setLevel(_level(chosen, "level" if level is not None else ENV_LEVEL))
        elif weir.level == logging.NOTSET:
            weir.setLevel(DEFAULT_LEVEL)
        for handler in [h for h in weir.handlers if isinstance(h, TerminalHandler)]:
            weir.removeHandler(handler)
        if terminal is None:
            terminal = _flag(env.get(ENV_TERMINAL), ENV_TERMINAL)
        if terminal:
            handler = TerminalHandler(stream)
            handler.setFormatter(
                logging.Formatter(
                    fmt or env.get(ENV_FORMAT) or DEFAULT_FORMAT,
                    datefmt or env.get(ENV_DATEFMT) or DEFAULT_DATEFMT,
                )
            )
            weir.addHandler(handler)
        _configured = True
    return weir


def ensure_configured() -> None:
    """:func:`configure_logging` from the environment, once per process."""
    if not _configured:
        configure_logging()


def reset_logging() -> None:
    """Undo :func:`configure_logging` (for tests): no handler of ours, the level unset."""
    global _configured
    with _lock:
        weir = logging.getLogger("weir")
        for handler in [h for h in weir.handlers if isinstance(h, TerminalHandler)]:
            weir.removeHandler(handler)
        weir.setLevel(logging.NOTSET)
        _configured = False


def get_logger(name: str | None = None) -> logging.Logger:
    """The ``weir`` logger, or its child ``weir.<name>``, which logs INFO and up by default.

    Records logged while a task runs go to that run's log (the server's, under an
    agent), whichever logger emits them, and are printed on the terminal in a local
    run. A child inherits the ``weir`` logger's level (``WEIR__LOGGING__LEVEL``).
    Secret values read in this process are masked in its records (see ``weir.masking``).
    """
    ensure_configured()
    root = logging.getLogger("weir")
    if name is None:
        return root
    logger = root.getChild(name)
    # A secret's value a task logs is masked wherever the record goes.
    if MASKING_FILTER not in logger.filters:
        logger.addFilter(MASKING_FILTER)
    return logger


def child_logger(parent: logging.Logger, name: str) -> logging.Logger:
    """A logger named ``name`` below ``parent`` that the logging module does not keep.

    For mapped children (``weir.<task>[k]``): ``logging.getLogger`` keeps every logger
    it makes for the life of the process, one per child of every mapped task run.
    """
    logger = logging.Logger(name)
    logger.parent = parent
    logger.addFilter(MASKING_FILTER)
    return logger


def _level(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip().upper()
    if text in _LEVELS:
        return int(logging.getLevelName(text))
    raise ConfigurationError(
        f"{where} must be one of {', '.join(_LEVELS)} (any case), not {value!r}."
    )


def _flag(value: str | None, where: str) -> bool:
    if value is None or not value.strip():
        return True
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"{where} must be true or false, not {value!r}.")
