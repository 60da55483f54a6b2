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

import base64
import contextlib
import copy
import itertools
import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from weir.engine.serializers import PickleSerializer, Serializer
from weir.exceptions import ResultError
from weir.utilities.home import weir_home

__all__ = ["INLINE_PREFIX", "Result", "inline_location", "results_home"]

logger = logging.getLogger(__name__)

LocationTemplate = str | Callable[..., str]


_NAME_BASE = uuid.uuid4().int & ~0xFFFFFFFF
_NAME_COUNTER = itertools.count()


def _new_name_base() -> None:
    # A forked child must not reuse its parent's names.
    global _NAME_BASE, _NAME_COUNTER
    _NAME_BASE = uuid.uuid4().int & ~0xFFFFFFFF
    _NAME_COUNTER = itertools.count()


os.register_at_fork(after_in_child=_new_name_base)


def results_home() -> Path:
    """The default directory for results: ``$WEIR_HOME/results`` (``~/.weir/results``)."""
    return weir_home() / "results"


class Result:
    """A value with a location and a serializer; reads and writes through fsspec.

    Args:
        value: the value, when already known.
        location: where the bytes go: a URL or path, a template with ``{key}``
            fields filled by :meth:`format`, or a callable ``location(**kwargs) -> str``.
        serializer: how the value becomes bytes; ``PickleSerializer()`` by default.
    """

    @staticmethod
    def inline_location(data: bytes) -> str:
        """The location that holds ``data`` itself (see the module's ``inline_location``)."""
        # A method too, so that the engine's checkpoint step, which has a Result but
        # must not import this module (fsspec) up front, reaches it without an import.
        return inline_location(data)

    #: Whether the value's bytes are kept in the location itself (``inline:…``)
    #: rather than written anywhere (see ``PrefectResult``).
    inline: bool = False
    #: Options for the fsspec filesystem (credentials, endpoints…).
    storage_options: dict[str, Any] = {}  # replaced per instance, never mutated

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
        """A fresh unique name, used when no location was given.

        A 128-bit id: 96 random bits drawn once per process and a 32-bit counter, so
        as unique as a uuid4 each time without reading the system's randomness for
        every task (slow on some hosts).
        """
        return f"{uuid.UUID(int=_NAME_BASE | (next(_NAME_COUNTER) & 0xFFFFFFFF)).hex}.bin"

    # Formatting ---------------------------------------------------------------

    def format(self, **kwargs: Any) -> Result:
        """A copy whose location is the template filled with ``kwargs`` (context values)."""
        new = self.copy()
        new.location = self._format_location(self.location, kwargs)
        return new

    def _format_location(self, location: LocationTemplate | None, kwargs: Mapping[str, Any]) -> str:
        if location is None:
            return self.default_location
        if callable(location):
            try:
                formatted = location(**_complete(kwargs))
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
        _write_atomically(url, data, self.storage_options)
        new.location = url
        logger.debug("Result written to %s (%d bytes).", url, len(data))
        return new

    def locate(self, values: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Result:
        """A copy whose location is where :meth:`write` would put the bytes.

        ``values`` may be a mapping that makes some values only when a template asks
        for them (the engine's context values); ``kwargs`` add to it.
        """
        mapping: Mapping[str, Any] = values if values is not None else {}
        if kwargs:
            mapping = {**_complete(mapping), **kwargs}
        new = self.copy()
        new.location = self._url(self._format_location(self.location, mapping))
        return new

    def store(self, value: Any) -> None:
        """Serialize and write ``value`` at this (located) result's location."""
        assert isinstance(self.location, str)
        data = self.serializer.serialize(value)
        _write_atomically(self.location, data, self.storage_options)
        logger.debug("Result written to %s (%d bytes).", self.location, len(data))

    def read(self, location: str) -> Result:
        """A new Result holding the value stored at ``location``."""
        if location.startswith(INLINE_PREFIX):
            new = self.copy()
            new.location = location
            new.value = new.serializer.deserialize(inline_bytes(location))
            return new
        url = self._read_url(location)
        fs, path = _filesystem(url, self.storage_options)
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
        fs, path = _filesystem(url, self.storage_options)
        try:
            return bool(fs.exists(path))
        except OSError as exc:
            raise ResultError(f"Could not check whether {url!r} exists: {exc}.") from exc


def _callable_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


#: A small result kept in its location itself: ``inline:<base64 of its bytes>``.
INLINE_PREFIX = "inline:"


def inline_location(data: bytes) -> str:
    """The location that holds ``data`` itself (for results small enough to travel)."""
    return INLINE_PREFIX + base64.b64encode(data).decode("ascii")


def inline_bytes(location: str) -> bytes:
    try:
        return base64.b64decode(location[len(INLINE_PREFIX) :], validate=True)
    except ValueError as exc:
        raise ResultError(f"The inline result location is damaged: {exc}.") from exc


def _complete(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every value of a lazy mapping (one with ``complete()``), or the mapping as a dict."""
    complete = getattr(values, "complete", None)
    return complete() if callable(complete) else dict(values)


def _fill_template(template: str, kwargs: Mapping[str, Any]) -> str:
    try:
        return template.format_map(kwargs)
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


def _filesystem(
    url: str, options: Mapping[str, Any] | None = None
) -> tuple[fsspec.AbstractFileSystem, str]:
    try:
        return fsspec.core.url_to_fs(url, **(options or {}))
    except (ImportError, ValueError) as exc:
        raise ResultError(
            f"No filesystem can handle the result location {url!r}: {exc}. Install the "
            "fsspec backend for that protocol (e.g. s3fs for s3://)."
        ) from exc


def _write_atomically(url: str, data: bytes, options: Mapping[str, Any] | None = None) -> None:
    try:
        if "://" not in url and "::" not in url:
            # A plain path: straight to the disk, without fsspec's per-call parsing
            # (checkpoints are written once per task, so this is a hot path).
            _write_local(url, data)
            return
        fs, path = _filesystem(url, options)
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
    # The temporary file sits beside the target so the rename stays on one
    # filesystem, where os.replace is atomic; its name is unique per thread.
    tmp = f"{path}.{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
