"""Finding the flows a Python script defines."""

from __future__ import annotations

import runpy
import sys
import weakref
from pathlib import Path

from weir.core.flow import Flow, loading_script
from weir.exceptions import StorageError

#: The script each flow returned by flows_in_script came from (its namespace is in
#: no module, so weir.storage.source could not find it otherwise).
SCRIPT_OF: weakref.WeakKeyDictionary[Flow, Path] = weakref.WeakKeyDictionary()


def flows_in_script(path: str | Path) -> dict[str, Flow]:
    """Run the script (not as ``__main__``) and return its flows by name."""
    script = Path(path)
    if not script.is_file():
        raise StorageError(f"There is no flow script at {script}; check the path.")
    # The script's folder goes first on sys.path so it can import its neighbours.
    folder = str(script.resolve().parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        with loading_script():
            namespace = runpy.run_path(str(script), run_name="__weir_script__")
    except Exception as exc:
        raise StorageError(f"Loading the flow script {script} failed: {exc!r}") from exc
    finally:
        if added:
            sys.path.remove(folder)
    flows: dict[str, Flow] = {}
    for value in namespace.values():
        if isinstance(value, Flow):
            if value.name in flows and flows[value.name] is not value:
                raise StorageError(
                    f"The script {script} defines two flows named '{value.name}'; "
                    "give each flow its own name."
                )
            flows[value.name] = value
    for flow in flows.values():
        SCRIPT_OF[flow] = script.resolve()
    return flows
