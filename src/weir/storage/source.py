"""Which Python file defines a flow, for storages given no path.

The flow object does not remember where it was made, so we look, in order:
0. the script ``flows_in_script`` loaded it from;
1. ``__main__``, if the flow is one of its globals (``python my_flow.py``);
2. any imported module holding the flow as a global (``import my_flows`` then
   ``my_flows.etl.register()``);
3. the file of the code that called into weir (the innermost frame outside
   weir's package), e.g. a script that builds its flow inside a function.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from weir.exceptions import StorageError

if TYPE_CHECKING:
    from weir.core.flow import Flow

_WEIR_DIR = Path(__file__).resolve().parents[1]


def defining_file(flow: Flow) -> Path:
    """The absolute path of the script that defines ``flow`` (see the module docstring)."""
    path = module_level_file(flow) or _caller_file()
    if path is not None:
        return path
    raise StorageError(
        f"Cannot tell which file defines flow '{flow.name}'; give the storage the script's "
        "path, e.g. Local(path='flows/etl.py'), or register with `weir register PATH`."
    )


def module_level_file(flow: Flow) -> Path | None:
    """The file whose module holds ``flow`` at its top level (steps 0 to 2 above): the
    one a run can load it from again. None for a flow built inside a function."""
    from weir.storage.scripts import SCRIPT_OF

    if flow in SCRIPT_OF:
        return SCRIPT_OF[flow]
    main = sys.modules.get("__main__")
    candidates = [main] + [m for n, m in list(sys.modules.items()) if n != "__main__"]
    for module in candidates:
        path = _holding_file(module, flow)
        if path is not None:
            return path
    return None


def _holding_file(module: ModuleType | None, flow: Flow) -> Path | None:
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict):
        return None
    file = namespace.get("__file__")
    if not isinstance(file, str) or not file.endswith(".py"):
        return None
    if not any(value is flow for value in list(namespace.values())):
        return None
    path = Path(file).resolve()
    return path if path.is_file() else None


def _caller_file() -> Path | None:
    frame = sys._getframe(1)
    while frame is not None:
        path = Path(frame.f_code.co_filename)  # "<stdin>", "<string>"… are no files
        if path.suffix == ".py" and path.is_file():
            resolved = path.resolve()
            if _WEIR_DIR not in resolved.parents:
                return resolved
        frame = frame.f_back  # type: ignore[assignment]
    return None
