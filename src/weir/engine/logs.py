"""Log records of task runs go to the run's Reporter.

A handler sits on the root logger, and another on the ``weir`` logger. When a
record is emitted while a task (or a flow) runs, the handler finds the run
through ``weir.context`` (the same thread or asyncio task) and hands the record
to that run's reporter, tagged with the task's slug and map index. Records
outside any run pass by untouched. ``weir``'s own records are taken by the
handler on ``weir`` (the root's lets them by), so they reach the run's log even
when the application stops them from propagating to the root logger (a common
cure for lines printed twice). The level of ``weir`` and its loggers is set by
``weir.utilities.logging.configure_logging`` (INFO unless configured otherwise).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from weir.context import TaskContext
from weir.context import current as _current
from weir.masking import mask
from weir.utilities.logging import ensure_configured

_install_lock = threading.Lock()
_installed: RunLogHandler | None = None


class RunLogHandler(logging.Handler):
    """Routes records emitted inside a run to that run's reporter.

    ``skip_weir``: let ``weir``'s records by (on the root logger, where the handler
    on ``weir`` has taken them already).
    """

    def __init__(self, level: int = logging.NOTSET, skip_weir: bool = False) -> None:
        super().__init__(level)
        self.skip_weir = skip_weir

    def emit(self, record: logging.LogRecord) -> None:
        if self.skip_weir:
            if record.name == "weir" or record.name.startswith("weir."):
                return
            _last_resort(record, self)
        ctx = _current.get()
        if ctx is None:
            return
        if isinstance(ctx, TaskContext):
            flow, slug, map_index = ctx.flow, ctx.task_slug, ctx.map_index
        else:
            flow, slug, map_index = ctx, None, None
        reporter = flow.reporter
        if reporter is None:
            return
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
        # A secret's value read in this process never leaves it in a log line.
        reporter.log(slug, map_index, record_to_dict(record, mask(message)))


def _last_resort(record: logging.LogRecord, ours: logging.Handler) -> None:
    """Print ``record`` as Python would have, had this handler not been on the root.

    With no handler at all on a record's way up, Python prints its warnings and errors
    through ``logging.lastResort``; this handler on the root would silence that for an
    application that set up no logging, so it stands in for it.
    """
    last = logging.lastResort
    if last is None or record.levelno < last.level:
        return
    if any(h is not ours for h in logging.root.handlers):
        return
    logger = logging.Logger.manager.loggerDict.get(record.name)
    while isinstance(logger, logging.Logger) and logger is not logging.root:
        if logger.handlers:
            return
        logger = logger.parent
    last.handle(record)


def record_to_dict(record: logging.LogRecord, message: str) -> dict[str, Any]:
    return {
        "timestamp": record.created,
        "level": record.levelno,
        "name": record.name,
        "message": message,
    }


def install() -> None:
    """Put the run-log handlers on the root and ``weir`` loggers once per process, and
    set up ``weir``'s logging (level, terminal handler) unless the application did."""
    global _installed
    ensure_configured()
    if _installed is not None:
        return
    with _install_lock:
        if _installed is None:
            logging.getLogger("weir").addHandler(RunLogHandler(level=logging.DEBUG))
            handler = RunLogHandler(level=logging.DEBUG, skip_weir=True)
            logging.getLogger().addHandler(handler)
            _installed = handler
