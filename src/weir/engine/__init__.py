"""The engine: states, signals, triggers, and the runners that turn a flow into states.

``FlowRunner`` and ``TaskRunner`` are loaded on first use, so that importing a small
part of the engine (``weir.engine.state``, ``weir.engine.signals``) does not load
the runners and the executors behind them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weir.engine.flow_runner import FlowRunner
    from weir.engine.task_runner import TaskRunner

_LAZY = {"FlowRunner": "weir.engine.flow_runner", "TaskRunner": "weir.engine.task_runner"}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        # weir.engine.signals, weir.engine.results, ...: a submodule on first access.
        from weir._submodules import submodule

        return submodule(__name__, name)
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


__all__ = ["FlowRunner", "TaskRunner"]
