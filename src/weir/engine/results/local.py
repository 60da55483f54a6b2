"""LocalResult: results kept as files under one directory of the local disk."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from weir.engine.results.base import LocationTemplate, Result, results_home
from weir.engine.serializers import Serializer
from weir.exceptions import ResultError

__all__ = ["LocalResult"]


class LocalResult(Result):
    """A Result stored as a file under ``dir``.

    Locations are paths relative to ``dir``; a written Result's ``location`` is the
    file's absolute path, which any LocalResult (or a plain ``Result``) can read.
    A formatted location that would leave ``dir`` (``../``, or an absolute path
    elsewhere) is refused, since template values may come from parameters.

    Args:
        dir: the directory; ``$WEIR_HOME/results`` (``~/.weir/results``) by default.
        validate_dir: create ``dir`` now if it is missing, and check it is a directory.
        location: a path, template or callable, as for :class:`Result`.
        serializer: how values become bytes; ``PickleSerializer()`` by default.
    """

    def __init__(
        self,
        dir: str | os.PathLike[str] | None = None,
        validate_dir: bool = True,
        location: LocationTemplate | None = None,
        serializer: Serializer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(location=location, serializer=serializer, **kwargs)
        base = Path(dir).expanduser() if dir is not None else results_home()
        self.dir = os.path.abspath(base)
        if validate_dir:
            _ensure_directory(self.dir)

    def __repr__(self) -> str:
        return f"<LocalResult: dir={self.dir!r} location={self.location!r}>"

    def _url(self, location: str) -> str:
        return self._path(location, confine=True)

    def _path(self, location: str, *, confine: bool) -> str:
        if location.startswith("file://"):
            location = location[len("file://") :]
        elif "://" in location:
            raise ResultError(
                f"LocalResult cannot use the location {location!r}: it keeps files on the "
                "local disk. Use Result(location=...) for other filesystems."
            )
        path = os.path.normpath(os.path.join(self.dir, location))
        if confine and os.path.commonpath([self.dir, path]) != self.dir:
            raise ResultError(
                f"The result location {location!r} points outside the result directory "
                f"{self.dir!r}. Keep locations inside it (no '..' and no absolute paths "
                "elsewhere), or give the LocalResult another dir."
            )
        return path

    def _read_url(self, location: str) -> str:
        # A concrete location, such as one a State carries from an earlier run, may be
        # an absolute path under another directory: reading it is allowed.
        return self._path(location, confine=False)


def _ensure_directory(directory: str) -> None:
    try:
        os.makedirs(directory, exist_ok=True)
    except FileExistsError as exc:
        raise ResultError(
            f"LocalResult's dir {directory!r} exists but is not a directory; give another dir."
        ) from exc
    except OSError as exc:
        raise ResultError(
            f"LocalResult could not create its dir {directory!r}: {exc}. Give a directory "
            "you can write to, or pass validate_dir=False."
        ) from exc
