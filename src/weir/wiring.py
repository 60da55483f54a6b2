"""What the graph layer calls but may not import, plugged in by the package root.

``weir.core`` imports nothing above it, yet ``Flow.run``, ``Flow.register`` and
``Flow.visualize`` reach the engine, the client and the drawing, and a task's default
trigger and cache validators are the engine's. ``weir/__init__.py``, which runs before
any weir module, plugs them in here. This module imports nothing of weir's, so the
package does so without loading the graph layer, which a server never uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: ``runner(flow, **run_kwargs) -> State``: loads the engine when a flow first runs.
runner: Callable[..., Any] | None = None
#: ``registrar(flow, project=, labels=, **kw) -> flow id``: the graph layer knows
#: nothing of storage or the client.
registrar: Callable[..., Any] | None = None
#: ``visualizer(flow, flow_state=, filename=, format=) -> str``: drawing reads files and
#: writes them, so it lives above the graph layer.
visualizer: Callable[..., Any] | None = None
#: ``flow_files()``: the module whose ``save(flow, fpath) -> str`` and ``load(fpath) ->
#: Flow`` are ``Flow.save`` and ``Flow.load``: they write and read files, which the
#: graph layer does not.
flow_files: Callable[[], Any] | None = None
#: ``agent_runner(flow, show_flow_logs=, api_key=)``: ``Flow.run_agent``, an agent
#: serving the flow's runs in this process (the agent layer, above the graph's).
agent_runner: Callable[..., Any] | None = None
#: ``engine_default(name)``: the engine's default trigger and cache validators by name
#: ("all_successful", "never_use", "duration_only").
engine_default: Callable[[str], Any] | None = None


def set_default_runner(plugged: Callable[..., Any]) -> None:
    global runner
    runner = plugged


def set_default_registrar(plugged: Callable[..., Any]) -> None:
    global registrar
    registrar = plugged


def set_default_visualizer(plugged: Callable[..., Any]) -> None:
    global visualizer
    visualizer = plugged


def set_flow_files(plugged: Callable[[], Any]) -> None:
    global flow_files
    flow_files = plugged


def set_agent_runner(plugged: Callable[..., Any]) -> None:
    global agent_runner
    agent_runner = plugged


def set_engine_defaults(resolver: Callable[[str], Any]) -> None:
    """Install the lookup of the engine's default trigger and cache validators."""
    global engine_default
    engine_default = resolver
