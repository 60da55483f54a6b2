"""Result: a value and the place its bytes are kept, over any fsspec filesystem.

A Result holds three things: ``value`` (the Python object, once known),
``location`` (where its bytes live) and ``serializer`` (how it becomes bytes).
Before a run, ``location`` is usually a *template*, e.g.
``"s3://bucket/{flow_name}/{task_name}/{map_index}.bin"``, or a callable
``location(**context) -> str``; :meth:`Result.format` fills it from the run's
context values, and :meth:`Result.write` formats, serializes and writes, returning
a new Result whose ``location`` is the concrete place. Results are never changed
in place: ``format``, ``write`` and ``read`` all return new ones.

A location is any URL fsspec understands (``memory://``, ``file://``, ``s3://``,
…); a plain path is a local file. With no location at all, a uuid-named file in
the local results directory (``$WEIR_HOME/results``) is used.

Writes are atomic where the filesystem allows: on a local disk the bytes go to a
temporary file beside the target, which is then renamed over it, so a reader
sees either the old file or the whole new one; object stores (and the memory
filesystem) already replace an object in one step.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from weir.engine.serializers import PickleSerializer, Serializer
from weir.exceptions import ResultError

__all__ = ["Result", "results_home"]

logger = logging.getLogger(__name__)

LocationTemplate = str | Callable[..., str]


def results_home() -> Path:
    """The default directory for results: ``$WEIR_HOME/results`` (``~/.weir/results``)."""
    home = os.environ.get("WEIR_HOME") or "~/.weir"
    return Path(home).expanduser() / "results"


class Result:
    """A value with a location and a serializer; reads and writes through fsspec.

    Args:
        value: the value, when already known.
        location: where the bytes go: a URL or path, a template with ``{key}``
            fields filled by :meth:`format`, or a callable ``location(**kwargs) -> str``.
        serializer: how the value becomes bytes; ``PickleSerializer()`` by default.
    """

    def __init__(
        self,
        value: Any = None,
        location: LocationTemplate | None = None,
        serializer: Serializer | None = None,
    ) -> None:
        self.value = value
        self.location = location
        self.serializer: Serializer = serializer if serializer is not None else PickleSerializer()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: location={self.location!r}>"

    def copy(self) -> Result:
        """A shallow copy (the value is shared, not copied)."""
        return copy.copy(self)

    @property
    def default_location(self) -> str:
        """A fresh uuid-based name, used when no location was given."""
        return f"{uuid.uuid4().hex}.bin"

    # Formatting ---------------------------------------------------------------

    def format(self, **kwargs: Any) -> Result:
        """A copy whose location is the template filled with ``kwargs`` (context values)."""
        new = self.copy()
        new.location = self._format_location(self.location, kwargs)
        return new

    def _format_location(self, location: LocationTemplate | None, kwargs: dict[str, Any]) -> str:
        if location is None:
            return self.default_location
        if callable(location):
            try:
                formatted = location(**kwargs)
            except TypeError as exc:
                raise ResultError(
                    f"The result location callable {_callable_name(location)} could not be "
                    f"called with the run's context values ({exc}); give it a signature "
                    "like `def location(**kwargs) -> str`."
                ) from exc
            if not isinstance(formatted, str) or not formatted:
                raise ResultError(
                    f"The result location callable {_callable_name(location)} returned "
                    f"{formatted!r}; it must return a non-empty string."
                )
            return formatted
        return _fill_template(location, kwargs)

    # Storage ------------------------------------------------------------------

    def _url(self, location: str) -> str:
        """Where a formatted location's bytes live (a URL or local path)."""
        if "://" in location or os.path.isabs(location) or "::" in location:
            return location
        return str(results_home() / location)

    def _read_url(self, location: str) -> str:
        """Where :meth:`read` looks for a location's bytes."""
        return self._url(location)

    def write(self, value: Any, /, **kwargs: Any) -> Result:
        """Format the location with ``kwargs``, write ``value`` there, and return the new Result."""
        new = self.format(**kwargs)
        new.value = value
        data = new.serializer.serialize(value)
        assert isinstance(new.location, str)
        url = self._url(new.location)
        _write_atomically(url, data)
        new.location = url
        logger.debug("Result written to %s (%d bytes).", url, len(data))
        return new

    def read(self, location: str) -> Result:
        """A new Result holding the value stored at ``location``."""
        url = self._read_url(location)
        fs, path = _filesystem(url)
        try:
            data = fs.cat_file(path)
        except FileNotFoundError as exc:
            raise ResultError(
                f"There is no result at {url!r}: it was never written there, or it was "
                "deleted. Check the location (and the result's directory)."
            ) from exc
        except OSError as exc:
            raise ResultError(f"The result at {url!r} could not be read: {exc}.") from exc
        new = self.copy()
        new.location = url
        new.value = new.serializer.deserialize(data)
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        """Whether a result is stored at ``location`` (a template, filled with ``kwargs``).

        Without ``kwargs`` the location is taken as it is, so a concrete location
        whose text holds braces is not mistaken for a template.
        """
        if kwargs:
            location = self._format_location(location, kwargs)
        url = self._url(location)
        fs, path = _filesystem(url)
        try:
            return bool(fs.exists(path))
        except OSError as exc:
            raise ResultError(f"Could not check whether {url!r} exists: {exc}.") from exc


def _callable_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


def _fill_template(template: str, kwargs: dict[str, Any]) -> str:
    try:
        return template.format(**kwargs)
    except KeyError as exc:
        available = ", ".join(sorted(kwargs)) or "none"
        raise ResultError(
            f"The result location template {template!r} uses {{{exc.args[0]}}}, which the "
            f"run's context does not have. Available keys: {available}. Use one of those, "
            "or a callable location."
        ) from exc
    except (IndexError, AttributeError, ValueError) as exc:
        raise ResultError(
            f"The result location template {template!r} could not be filled: {exc}. "
            "Fix the template, e.g. '{flow_name}/{task_name}/{map_index}.bin'."
        ) from exc


def _filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise ResultError(
            f"No filesystem can handle the result location {url!r}: {exc}. Install the "
            "fsspec backend for that protocol (e.g. s3fs for s3://)."
        ) from exc


def _write_atomically(url: str, data: bytes) -> None:
    fs, path = _filesystem(url)
    try:
        if isinstance(fs, LocalFileSystem):
            _write_local(path, data)
        else:
            # Object stores and the memory filesystem replace an object in one step.
            parent = fs._parent(path)
            if parent:
                fs.makedirs(parent, exist_ok=True)
            fs.pipe_file(path, data)
    except OSError as exc:
        raise ResultError(f"The result could not be written to {url!r}: {exc}.") from exc


def _write_local(path: str, data: bytes) -> None:
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    # The temporary file sits in the target's directory so the rename stays on one
    # filesystem, where os.replace is atomic.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".weir-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
