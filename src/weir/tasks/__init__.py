"""``weir.tasks``: ready-made tasks, at Prefect 1's ``prefect.tasks`` paths.

- ``weir.tasks.core``: the tasks the graph makes for itself (``Constant``,
  ``FunctionTask``), where Prefect 1 flows import them from.
- ``weir.tasks.control_flow``: branching (``case``, ``switch``, ``ifelse``,
  ``merge``) and ``FilterTask``.

This package sits above the engine: its tasks raise the engine's signals and
default to its triggers, so ``weir.core`` never imports it.
"""


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
