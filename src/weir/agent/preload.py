"""Libraries the local agent keeps imported in its warm processes (``--preload``).

A flow that imports a heavy library (pandas, say) pays that import in every run's
process. Told ``weir agent start --preload pandas``, the agent has its fork server
(or, spawning, its spare process) import it once, before any run: each run then
finds it imported. Only libraries belong here: the flow's own modules are loaded
by each run, so that code changed on disk is what the next run runs.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Sequence

#: The environment variable that hands the names (comma-separated) to the warm process.
PRELOAD_ENV = "WEIR_AGENT_PRELOAD"


def env(modules: Sequence[str]) -> dict[str, str]:
    """The variable naming ``modules`` for a warm process; set (empty) when there are
    none too, so that one the agent itself inherited is not passed on."""
    return {PRELOAD_ENV: ",".join(modules)}


def names() -> list[str]:
    """The modules to preload, taken out of the environment: the runs this process
    forks or becomes have no use for the variable."""
    return [name.strip() for name in os.environ.pop(PRELOAD_ENV, "").split(",") if name.strip()]


def import_each(modules: Sequence[str]) -> Iterator[tuple[str, Exception | None]]:
    """Import the ``modules`` in order, yielding each name with what its import raised
    (None when it was imported)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - whatever the module's own code raised
            yield name, exc
        else:
            yield name, None


def check(modules: Sequence[str]) -> list[str]:
    """The ``modules`` as the agent takes them (each entry may list several, separated
    by commas); a ValueError naming a malformed one."""
    out = []
    for name in (part for entry in modules for part in entry.split(",")):
        name = name.strip()
        if not name or not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(
                f"--preload {name!r} is not a module name: give one as you would import "
                "it, e.g. --preload pandas or --preload sklearn.ensemble."
            )
        out.append(name)
    return out
