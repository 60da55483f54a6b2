"""Cache validators: may a task reuse its cached result, or must it run again?

A task with ``cache_for`` leaves a :class:`~weir.engine.state.Cached` state behind
when it succeeds: it records the inputs and parameters of that run and when the
cache expires (``cached_result_expiration``, seconds since the epoch, or None for
never). On a later run the TaskRunner calls the task's ``cache_validator`` as
``validator(state, inputs, parameters) -> bool``: True means reuse the cache.

Every validator here first checks expiration, then compares what it is about:

- ``never_use``: never reuse.
- ``duration_only``: reuse until the cache expires (the default).
- ``all_inputs`` / ``all_parameters``: … and only if every input / parameter is equal.
- ``partial_inputs_only(validate_on)`` / ``partial_parameters_only(validate_on)``:
  … and only if the named inputs / parameters are equal (no names: expiration only).

Cached inputs may be stored as plain values or as :class:`~weir.engine.results.Result`
objects; a Result compares by its ``value``.
"""

from __future__ import annotations

import datetime as _dt
import pickle
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import cloudpickle

from weir.engine.state import State

__all__ = [
    "CacheValidator",
    "all_inputs",
    "all_parameters",
    "duration_only",
    "never_use",
    "partial_inputs_only",
    "partial_parameters_only",
]

CacheValidator = Callable[[State, Mapping[str, Any], Mapping[str, Any]], bool]


def never_use(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Never use the cache."""
    return False


def duration_only(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Use the cache until it expires; a cache without an expiration never does."""
    expiration = getattr(state, "cached_result_expiration", None)
    if expiration is None:
        return True
    if isinstance(expiration, _dt.datetime):
        expiration = expiration.timestamp()
    return float(expiration) > time.time()


def all_inputs(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Use the cache while it is unexpired and every input equals the cached one."""
    if not duration_only(state, inputs, parameters):
        return False
    cached = getattr(state, "cached_inputs", None) or {}
    return _same(_values(cached), _values(inputs or {}))


def all_parameters(state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> bool:
    """Use the cache while it is unexpired and every parameter equals the cached one."""
    if not duration_only(state, inputs, parameters):
        return False
    cached = getattr(state, "cached_parameters", None) or {}
    return _same(dict(cached), dict(parameters or {}))


def partial_inputs_only(validate_on: Iterable[str] | str | None = None) -> CacheValidator:
    """A validator that compares only the inputs named in ``validate_on``.

    With ``validate_on=None`` only expiration is checked. The named inputs must be
    equal, and present on both sides or absent on both.
    """
    names = _names(validate_on)

    def _partial_inputs_only(
        state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> bool:
        if not duration_only(state, inputs, parameters):
            return False
        if names is None:
            return True
        cached = getattr(state, "cached_inputs", None) or {}
        return _same(_pick(_values(cached), names), _pick(_values(inputs or {}), names))

    return _partial_inputs_only


def partial_parameters_only(validate_on: Iterable[str] | str | None = None) -> CacheValidator:
    """A validator that compares only the parameters named in ``validate_on``.

    With ``validate_on=None`` only expiration is checked. The named parameters must
    be equal, and present on both sides or absent on both.
    """
    names = _names(validate_on)

    def _partial_parameters_only(
        state: State, inputs: Mapping[str, Any], parameters: Mapping[str, Any]
    ) -> bool:
        if not duration_only(state, inputs, parameters):
            return False
        if names is None:
            return True
        cached = getattr(state, "cached_parameters", None) or {}
        return _same(_pick(dict(cached), names), _pick(dict(parameters or {}), names))

    return _partial_parameters_only


def _names(validate_on: Iterable[str] | str | None) -> frozenset[str] | None:
    if validate_on is None:
        return None
    # A lone string is one name, not a set of characters.
    if isinstance(validate_on, str):
        return frozenset({validate_on})
    return frozenset(validate_on)


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    # Imported here, not at the top: every task reads its default validator (never_use)
    # from this module, and results bring fsspec, which a run without caching never needs.
    from weir.engine.results import Result

    return {k: v.value if isinstance(v, Result) else v for k, v in data.items()}


def _pick(data: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in names}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    return all(_equal(a[k], b[k]) for k in a)


def _equal(x: Any, y: Any) -> bool:
    try:
        return bool(x == y)
    except (ValueError, TypeError):
        # Values such as numpy arrays refuse a plain truth value; equal pickles are
        # equal values for the data a cache holds.
        try:
            return cloudpickle.dumps(x) == cloudpickle.dumps(y)
        except (pickle.PicklingError, TypeError, AttributeError):
            return False
