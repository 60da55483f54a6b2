"""FilterTask: keep the items of a list of results that pass a test (Prefect 1's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from weir.core.task import Task
from weir.engine.triggers import all_finished

__all__ = ["FilterTask"]


def _is_result(value: Any) -> bool:
    """The default test: a real result, not None nor the exception of a failed child."""
    return not isinstance(value, (type(None), BaseException))


class FilterTask(Task):
    """Filters a list of results, typically a mapped task's: ``FilterTask()(square.map(xs))``.

    ``filter_func(item) -> bool`` says which items to keep (default: drop None and
    exceptions, what failed or skipped children leave). ``log_func(kept) -> str``,
    when given, writes a line about the kept items to the task's log. Runs once
    every upstream task finished (``all_finished``) and even after upstream skips.
    """

    def __init__(
        self,
        filter_func: Callable[[Any], bool] | None = None,
        log_func: Callable[[list[Any]], str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("skip_on_upstream_skip", False)
        kwargs.setdefault("trigger", all_finished)
        self.filter_func = filter_func or _is_result
        self.log_func = log_func
        super().__init__(**kwargs)

    def run(self, task_results: list[Any] | None) -> list[Any]:
        # A skipped upstream passes None; Prefect 1 then fails iterating it. Nothing to keep.
        kept = [r for r in task_results or () if self.filter_func(r)]
        if self.log_func is not None:
            self.logger.info(self.log_func(kept))
        return kept
