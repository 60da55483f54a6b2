"""File operations as tasks: ``Copy``, ``Move``, ``Remove`` and ``Glob``, as in Prefect 1.

Each takes its paths when made or when called (a call's value wins), returns the
path it produced as a ``pathlib.Path``, and fails with a message naming the task
and the path when the path is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from weir.core.task import Task
from weir.utilities.tasks import defaults_from_attrs

__all__ = ["Copy", "Glob", "Move", "Remove"]

PathLike = str | Path


def required_path(task: Task, value: PathLike | None, argument: str) -> Path:
    """``value`` as a Path; a ValueError naming the task and the argument when empty."""
    if not value:
        raise ValueError(
            f"Task '{task.name}' got no {argument}: give {argument}= when you make the task "
            "or when you call it in the flow."
        )
    return Path(value)


def existing_path(task: Task, value: PathLike | None, argument: str) -> Path:
    """``required_path``, and a ValueError naming it when nothing is there."""
    path = required_path(task, value, argument)
    if not path.exists():
        raise ValueError(f"Task '{task.name}': {argument} {path} does not exist.")
    return path


class _SourceToTarget(Task):
    """A task that makes ``target_path`` from ``source_path``; the new path."""

    #: What the log line says it does ("Moving", "Copying").
    verb = ""

    def __init__(self, source_path: PathLike = "", target_path: PathLike = "", **kwargs: Any):
        self.source_path = source_path
        self.target_path = target_path
        super().__init__(**kwargs)

    @defaults_from_attrs("source_path", "target_path")
    def run(self, source_path: PathLike = "", target_path: PathLike = "") -> Path:  # type: ignore[override]
        source = existing_path(self, source_path, "source_path")
        target = required_path(self, target_path, "target_path")
        self.logger.info("%s %s to %s...", self.verb, source, target)
        return self._apply(source, target)

    def _apply(self, source: Path, target: Path) -> Path:
        raise NotImplementedError


class Move(_SourceToTarget):
    """Move a file or a directory (``shutil.move``); the new path.

    ``target_path`` may be an existing directory (the source goes inside it); its
    parent directories must exist.
    """

    verb = "Moving"

    def _apply(self, source: Path, target: Path) -> Path:
        return Path(shutil.move(str(source), str(target)))


class Copy(_SourceToTarget):
    """Copy a file (``shutil.copy``) or a whole directory (``shutil.copytree``, to a
    ``target_path`` that must not exist yet); the new path."""

    verb = "Copying"

    def _apply(self, source: Path, target: Path) -> Path:
        if source.is_dir():
            if target.exists():
                raise ValueError(
                    f"Task '{self.name}': target_path {target} exists; a directory is copied "
                    "to a new path."
                )
            return Path(shutil.copytree(source, target))
        return Path(shutil.copy(source, target))


class Remove(Task):
    """Remove a file, or an empty directory, as in Prefect 1 (a directory with files
    in it fails the task rather than being deleted with them)."""

    def __init__(self, path: PathLike = "", **kwargs: Any):
        self.path = path
        super().__init__(**kwargs)

    @defaults_from_attrs("path")
    def run(self, path: PathLike = "") -> None:  # type: ignore[override]
        target = existing_path(self, path, "path")
        self.logger.info("Removing %s...", target)
        if target.is_dir():
            try:
                target.rmdir()
            except OSError as exc:
                raise ValueError(
                    f"Task '{self.name}': the directory {target} is not empty ({exc.strerror}); "
                    "remove what is in it first."
                ) from None
        else:
            target.unlink()


class Glob(Task):
    """The paths under ``path`` that match ``pattern`` (``pathlib.Path.glob``: ``*.csv``,
    ``**/*.json``), sorted."""

    def __init__(self, path: PathLike = "", pattern: str = "*", **kwargs: Any):
        self.path = path
        self.pattern = pattern
        super().__init__(**kwargs)

    @defaults_from_attrs("path", "pattern")
    def run(self, path: PathLike = "", pattern: str = "*") -> list[Path]:  # type: ignore[override]
        base = required_path(self, path, "path")
        self.logger.debug("Glob %s", base / pattern)
        return sorted(base.glob(pattern))
