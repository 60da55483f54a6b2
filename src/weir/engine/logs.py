"""Log records of task runs go to the run's Reporter.

One handler sits on the root logger. When a record is emitted while a task (or
a flow) runs, the handler finds the run through ``weir.context`` (the same
thread or asyncio task) and hands the record to that run's reporter, tagged
with the task's slug and map index. Records outside any run pass by untouched.
``weir.task_run`` and ``weir.flow_run`` log at INFO unless configured otherwise.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from weir import context as _context_module
from weir.context import TaskContext
from weir.masking import mask

_current = _context_module.current
_install_lock = threading.Lock()
_installed: RunLogHandler | None = None


class RunLogHandler(logging.Handler):
    """Routes records emitted inside a run to that run's reporter."""

    def emit(self, record: logging.LogRecord) -> None:
        ctx = _current.get()
        if ctx is None:
            return
        if isinstance(ctx, TaskContext):
            flow, slug, map_index = ctx.flow, ctx.task_slug, ctx.map_index
        else:
            flow, slug, map_index = ctx, None, None
        reporter = flow.reporter
        log = getattr(reporter, "log", None)
        if log is None:
            return
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
        # A secret's value read in this process never leaves it in a log line.
        log(slug, map_index, record_to_dict(record, mask(message)))


def record_to_dict(record: logging.LogRecord, message: str) -> dict[str, Any]:
    return {
        "timestamp": record.created,
        "level": record.levelno,
        "name": record.name,
        "message": message,
    }


def install() -> None:
    """Put the run-log handler on the root logger once per process."""
    global _installed
    if _installed is not None:
        return
    with _install_lock:
        if _installed is None:
            handler = RunLogHandler(level=logging.DEBUG)
            logging.getLogger().addHandler(handler)
            for name in ("weir.task_run", "weir.flow_run"):
                lg = logging.getLogger(name)
                if lg.level == logging.NOTSET:
                    lg.setLevel(logging.INFO)
            _installed = handler
