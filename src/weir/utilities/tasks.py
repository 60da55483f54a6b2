"""``weir.utilities.tasks``: task, tags, apply_map and defaults_from_attrs (Prefect 1's path)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from weir.core.apply_map import apply_map
from weir.core.builtins import as_task
from weir.core.task import tags, task

__all__ = ["apply_map", "as_task", "defaults_from_attrs", "pause_task", "tags", "task"]

F = TypeVar("F", bound=Callable[..., Any])


def defaults_from_attrs(*attr_args: str) -> Callable[[F], F]:
    """Let ``run`` keyword arguments left out fall back to the task's attributes of that name.

    A task class becomes a template whose settings are given once, at init, and
    overridden per call::

        class Query(Task):
            def __init__(self, table=None, **kwargs):
                self.table = table
                super().__init__(**kwargs)

            @defaults_from_attrs("table")
            def run(self, table=None):
                ...

    ``Query(table="users")()`` queries users; ``Query(table="users")(table="orders")``
    orders. An argument passed explicitly, even as None, wins.
    """
    for name in attr_args:
        if not isinstance(name, str):
            raise TypeError(
                f"defaults_from_attrs() takes attribute names as strings, got {name!r}."
            )

    def decorate(run: F) -> F:
        @functools.wraps(run)
        def with_defaults(self: Any, *args: Any, **kwargs: Any) -> Any:
            for name in attr_args:
                kwargs.setdefault(name, getattr(self, name))
            return run(self, *args, **kwargs)

        return with_defaults  # type: ignore[return-value]

    return decorate


def pause_task(message: str | None = None, duration: timedelta | None = None) -> None:
    """Pause the task that calls it until it is resumed (Prefect 1's helper): raises
    ``PAUSE`` unless the task runs approved (``context.resume``). With ``duration``,
    the pause ends on its own after that long. The task's code before the call runs
    again when it resumes."""
    from weir.context import context
    from weir.engine.signals import PAUSE

    if context.get("resume"):
        return
    start = None if duration is None else datetime.now(timezone.utc) + duration
    raise PAUSE(message or "Pause signal raised during task execution.", start_time=start)
