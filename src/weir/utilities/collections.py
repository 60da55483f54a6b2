"""``weir.utilities.collections``: ``DotDict`` and dict helpers (Prefect 1's path).

Code written for Prefect 1 builds configuration with these (``DotDict(a=1).a``,
``merge_dicts(defaults, overrides)``), and ``weir.context.copy()`` returns a
``DotDict``, as Prefect 1's context was one.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

__all__ = ["DotDict", "as_nested_dict", "flatten_seq", "merge_dicts"]


class DotDict(MutableMapping[str, Any]):
    """A dict whose keys also read and write as attributes: ``d.a`` is ``d["a"]``.

    The values live in the instance's ``__dict__``, so a key may even be named like a
    method (``d["items"]``); read it with ``d["items"]`` then.
    """

    def __init__(self, init_dict: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if init_dict:
            self.__dict__.update(init_dict)
        self.__dict__.update(kwargs)

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.__dict__[key] = value

    def __delitem__(self, key: str) -> None:
        del self.__dict__[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __len__(self) -> int:
        return len(self.__dict__)

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __getattr__(self, name: str) -> Any:
        # Only called for a name that is not in __dict__: a missing key.
        raise AttributeError(f"{type(self).__name__} has no key {name!r}.")

    def __repr__(self) -> str:
        keys = ", ".join(sorted(repr(k) for k in self.__dict__))
        return f"<{type(self).__name__}: {keys}>" if keys else f"<{type(self).__name__}>"

    def get(self, key: str, default: Any = None) -> Any:
        return self.__dict__.get(key, default)

    def copy(self) -> DotDict:
        """A shallow copy, of the same class."""
        return type(self)(self.__dict__.copy())

    def to_dict(self) -> dict[str, Any]:
        """A plain dict, DotDicts inside it turned into dicts too."""
        return as_nested_dict(self, dict)  # type: ignore[no-any-return]


def merge_dicts(d1: MutableMapping[str, Any], d2: Mapping[str, Any]) -> MutableMapping[str, Any]:
    """A copy of ``d1`` updated from ``d2``, dicts found in both merged the same way."""
    merged = d1.copy()  # type: ignore[attr-defined]
    for key, value in d2.items():
        mine = merged.get(key)
        if isinstance(mine, MutableMapping) and isinstance(value, MutableMapping):
            merged[key] = merge_dicts(mine, value)
        else:
            merged[key] = value
    return merged  # type: ignore[no-any-return]


def as_nested_dict(obj: Any, dct_class: type = DotDict) -> Any:
    """``obj`` with every dict in it (lists, tuples and sets searched) made a ``dct_class``."""
    if isinstance(obj, (list, tuple, set)):
        return type(obj)(as_nested_dict(item, dct_class) for item in obj)
    if isinstance(obj, (dict, DotDict)):
        items = obj.__dict__ if isinstance(obj, DotDict) else obj
        return dct_class({key: as_nested_dict(value, dct_class) for key, value in items.items()})
    return obj


def flatten_seq(seq: Iterable[Any]) -> Generator[Any, None, None]:
    """Every item of ``seq`` and of the lists, tuples and sets nested in it, in order."""
    for item in seq:
        if isinstance(item, (list, tuple, set)):
            yield from flatten_seq(item)
        else:
            yield item
