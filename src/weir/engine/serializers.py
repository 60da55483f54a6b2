"""Serializers: how a Result turns a value into bytes and back.

A serializer is a small object with two methods, ``serialize(value) -> bytes``
and ``deserialize(bytes) -> value``; it keeps no state beyond its settings, so
two serializers of the same class and settings are equal. ``PickleSerializer``
(cloudpickle) is the default everywhere; the others trade generality for a
format other programs can read.

A value a serializer cannot handle raises :class:`~weir.exceptions.SerializationError`
naming the value's type, the serializer, and a serializer that would do.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import io
import json
import logging
import pickle
from collections.abc import Callable
from typing import Any

import cloudpickle

from weir.exceptions import SerializationError

__all__ = [
    "CompressedSerializer",
    "DateTimeSerializer",
    "JSONSerializer",
    "PandasSerializer",
    "PickleSerializer",
    "Serializer",
]

logger = logging.getLogger(__name__)


class Serializer:
    """Base class: turn a value into bytes and bytes back into the value."""

    def serialize(self, value: Any) -> bytes:
        """Turn ``value`` into bytes."""
        raise NotImplementedError

    def deserialize(self, value: bytes) -> Any:
        """Turn bytes made by :meth:`serialize` back into the value."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable settings: not hashable

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _cannot_serialize(self, value: Any, exc: BaseException, hint: str) -> SerializationError:
        return SerializationError(
            f"{type(self).__name__} could not serialize a value of type "
            f"{_type_name(value)!r}: {exc}. {hint}"
        )

    def _cannot_deserialize(self, data: bytes, exc: BaseException) -> SerializationError:
        return SerializationError(
            f"{type(self).__name__} could not deserialize {len(data)} bytes: {exc}. "
            "Read the result with the serializer it was written with."
        )


def _type_name(value: Any) -> str:
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


#: Types whose values cloudpickle writes exactly as the standard pickler does (it only
#: changes how functions, classes and modules are written), about ten times faster.
_PLAIN_TYPES = frozenset({int, float, str, bytes, bool, type(None)})


class PickleSerializer(Serializer):
    """Serializes with cloudpickle, so lambdas, closures and ``__main__`` objects work."""

    def serialize(self, value: Any) -> bytes:
        if type(value) in _PLAIN_TYPES:
            return pickle.dumps(value, protocol=cloudpickle.DEFAULT_PROTOCOL)
        try:
            return cloudpickle.dumps(value)
        # Pickling errors come as any of these, depending on what refused.
        except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError) as exc:
            raise self._cannot_serialize(
                value,
                exc,
                "Return a value that can be pickled (e.g. not an open file, lock or "
                "generator), use a serializer made for it (JSONSerializer for plain data, "
                "PandasSerializer for DataFrames), or turn checkpointing off for this task.",
            ) from exc

    def deserialize(self, value: bytes) -> Any:
        try:
            return cloudpickle.loads(value)
        except (
            pickle.UnpicklingError,
            EOFError,
            ImportError,
            AttributeError,
            TypeError,
            ValueError,
            IndexError,
        ) as exc:
            raise self._cannot_deserialize(value, exc) from exc


class JSONSerializer(Serializer):
    """Serializes to UTF-8 JSON: readable by anything, for dicts, lists, str, numbers."""

    def serialize(self, value: Any) -> bytes:
        try:
            return json.dumps(value).encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            raise self._cannot_serialize(
                value,
                exc,
                "JSON holds only dicts, lists, strings, numbers, booleans and None; "
                "convert the value first, or use PickleSerializer.",
            ) from exc

    def deserialize(self, value: bytes) -> Any:
        try:
            return json.loads(value)
        except (ValueError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError
            raise self._cannot_deserialize(value, exc) from exc


class DateTimeSerializer(Serializer):
    """Serializes a datetime as ISO 8601 text (e.g. ``2024-01-02T03:04:05+00:00``)."""

    def serialize(self, value: Any) -> bytes:
        if not isinstance(value, _dt.datetime):
            raise self._cannot_serialize(
                value,
                TypeError("it is not a datetime.datetime"),
                "Use DateTimeSerializer only for datetimes, or use PickleSerializer.",
            )
        return value.isoformat().encode("utf-8")

    def deserialize(self, value: bytes) -> Any:
        try:
            return _dt.datetime.fromisoformat(value.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._cannot_deserialize(value, exc) from exc


class PandasSerializer(Serializer):
    """Serializes a DataFrame with ``DataFrame.to_<file_type>`` and ``pandas.read_<file_type>``.

    Args:
        file_type: a format pandas reads and writes, e.g. ``"csv"``, ``"parquet"``,
            ``"json"``, ``"feather"``, ``"pickle"``.
        deserialize_kwargs: keyword arguments for ``pandas.read_<file_type>``.
        serialize_kwargs: keyword arguments for ``DataFrame.to_<file_type>``.
    """

    def __init__(
        self,
        file_type: str,
        deserialize_kwargs: dict[str, Any] | None = None,
        serialize_kwargs: dict[str, Any] | None = None,
    ) -> None:
        pd = _import_pandas()
        self.file_type = file_type
        self.deserialize_kwargs = dict(deserialize_kwargs or {})
        self.serialize_kwargs = dict(serialize_kwargs or {})
        if not hasattr(pd, f"read_{file_type}") or not hasattr(pd.DataFrame, f"to_{file_type}"):
            raise ValueError(
                f"PandasSerializer cannot use file_type {file_type!r}: pandas has no "
                f"read_{file_type}/DataFrame.to_{file_type}. Use one such as 'csv', "
                "'parquet', 'json', 'feather' or 'pickle'."
            )

    def __repr__(self) -> str:
        return f"PandasSerializer({self.file_type!r})"

    def serialize(self, value: Any) -> bytes:
        pd = _import_pandas()
        if not isinstance(value, pd.DataFrame):
            raise self._cannot_serialize(
                value,
                TypeError("it is not a pandas.DataFrame"),
                "Use PandasSerializer only for DataFrames, or use PickleSerializer.",
            )
        buffer = io.BytesIO()
        try:
            getattr(value, f"to_{self.file_type}")(buffer, **self.serialize_kwargs)
        except (TypeError, ValueError, ImportError) as exc:
            raise self._cannot_serialize(
                value, exc, "Check serialize_kwargs, or use another file_type."
            ) from exc
        return buffer.getvalue()

    def deserialize(self, value: bytes) -> Any:
        pd = _import_pandas()
        try:
            return getattr(pd, f"read_{self.file_type}")(
                io.BytesIO(value), **self.deserialize_kwargs
            )
        except (TypeError, ValueError, ImportError, UnicodeDecodeError) as exc:
            raise self._cannot_deserialize(value, exc) from exc


def _import_pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            "PandasSerializer needs pandas, which is not installed: run "
            "`pip install pandas` (plus pyarrow for parquet/feather), or use "
            "PickleSerializer."
        ) from exc
    return pandas


#: The standard library's compression modules ``CompressedSerializer(format=)`` names.
_FORMATS = ("bz2", "gzip", "lzma", "zlib")


class CompressedSerializer(Serializer):
    """Another serializer's bytes, compressed (Prefect 1's ``CompressedSerializer``).

    Args:
        serializer: the serializer whose bytes are compressed.
        format: ``bz2``, ``gzip``, ``lzma`` or ``zlib`` (the standard library's); or
            give ``compress`` and ``decompress`` functions instead.
        compress: a ``bytes -> bytes`` function of your own (with ``decompress``).
        decompress: its inverse.
        compress_kwargs: keyword arguments for ``compress``.
        decompress_kwargs: keyword arguments for ``decompress``.
    """

    def __init__(
        self,
        serializer: Serializer,
        format: str | None = None,
        compress: Callable[..., bytes] | None = None,
        decompress: Callable[..., bytes] | None = None,
        compress_kwargs: dict[str, Any] | None = None,
        decompress_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if format is not None and (compress or decompress):
            raise ValueError(
                "CompressedSerializer takes format= or compress=/decompress=, not both."
            )
        if format is not None:
            if format not in _FORMATS:
                raise ValueError(
                    f"CompressedSerializer: format {format!r} is not one of "
                    f"{', '.join(_FORMATS)}; or give compress= and decompress= functions."
                )
            module = importlib.import_module(format)
            compress, decompress = module.compress, module.decompress
        if compress is None or decompress is None:
            raise ValueError(
                "CompressedSerializer needs format= (bz2, gzip, lzma or zlib), or both "
                "compress= and decompress=."
            )
        self.serializer = serializer
        self.format = format
        self.compress = compress
        self.decompress = decompress
        self.compress_kwargs = dict(compress_kwargs or {})
        self.decompress_kwargs = dict(decompress_kwargs or {})

    def __repr__(self) -> str:
        how = self.format or getattr(self.compress, "__name__", "custom")
        return f"CompressedSerializer({self.serializer!r}, {how})"

    def serialize(self, value: Any) -> bytes:
        return self.compress(self.serializer.serialize(value), **self.compress_kwargs)

    def deserialize(self, value: bytes) -> Any:
        try:
            data = self.decompress(value, **self.decompress_kwargs)
        except Exception as exc:  # each library raises its own error on bad bytes
            raise self._cannot_deserialize(value, exc) from exc
        return self.serializer.deserialize(data)
