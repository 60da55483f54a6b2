"""``weir.run_configs``: where and how an agent runs a flow's runs (Prefect 1's path).

A run config travels with the flow when it is registered (``flow.run_config =
LocalRun(...)``) and the agent that claims a run reads it:

- ``labels`` are added to the flow's labels, so only agents with all of them
  take its runs;
- ``env`` is added to the environment of the run's process (or container);
- ``LocalRun(working_dir=...)`` is the directory the local agent starts the
  process in; ``DockerRun(image=...)`` the image the docker agent runs.

A local agent runs ``LocalRun`` and ``UniversalRun``; a docker agent runs
``DockerRun`` and ``UniversalRun``: an agent given another kind fails the run
with a message that says which agent it needs. A plain dict (``{"env": {...}}``)
is still accepted as the run config and is read as a ``UniversalRun``.
"""

from __future__ import annotations

from weir.run_configs.base import DockerRun, LocalRun, RunConfig, UniversalRun

__all__ = ["DockerRun", "LocalRun", "RunConfig", "UniversalRun"]


def __getattr__(name: str) -> object:
    # A submodule on first access, as after Prefect 1's eager imports (weir._submodules).
    from weir._submodules import submodule

    return submodule(__name__, name)
