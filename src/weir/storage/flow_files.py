"""``Flow.save`` and ``Flow.load``: a flow pickled (cloudpickle) to a file of its own.

As Prefect 1's: a flow built in one place, saved, and loaded elsewhere to run or
register, without its script. By default the file is ``$WEIR_HOME/flows/<flow
slug>.weir``, and ``Flow.load`` takes that flow's name as well as a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from weir.exceptions import StorageError
from weir.storage.keys import flow_slug
from weir.storage.local import default_directory, unpickled_flow

if TYPE_CHECKING:
    from weir.core.flow import Flow

#: The suffix of a saved flow's file when ``save`` chooses its name.
SUFFIX = ".weir"


def default_path(flow_name: str) -> Path:
    """Where ``save`` puts a flow of this name when given no path."""
    return default_directory() / f"{flow_slug(flow_name)}{SUFFIX}"


def save(flow: Flow, fpath: str | Path | None = None) -> str:
    """Pickle ``flow`` to ``fpath`` (default ``default_path``); the file's absolute path."""
    import cloudpickle

    path = Path(fpath).expanduser() if fpath is not None else default_path(flow.name)
    try:
        data = cloudpickle.dumps(flow)
    except Exception as exc:
        raise StorageError(
            f"Flow '{flow.name}' cannot be pickled ({exc!r}); a task may hold something "
            "that cannot be (a lock, a connection): make it in the task's run instead."
        ) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return str(path.resolve())


def load(fpath: str | Path) -> Flow:
    """The flow saved at ``fpath``, or, when no such file exists, the one saved under
    that flow name at its default path."""
    path = Path(fpath).expanduser()
    if not path.is_file():
        by_name = default_path(str(fpath))
        if not by_name.is_file():
            raise StorageError(
                f"No saved flow at {path.resolve()}, nor one saved as {str(fpath)!r} at "
                f"{by_name}; give the path flow.save() returned, or the flow's name."
            )
        path = by_name
    return unpickled_flow(path.read_bytes(), path)
