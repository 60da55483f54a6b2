"""``--param KEY=VALUE`` values read as the flow's parameters expect, as the UI's Run form does.

A parameter whose default is text takes the text as given (``--param who=42`` is
``"42"``); any other takes JSON, and must have its default's JSON type (an integer
where the default is an integer, a list where it is a list); a parameter without
a default takes any JSON value, or the text when it is not JSON. Mistakes are
refused before the run is created, worded for the command line.
"""

from __future__ import annotations

import json
from typing import Any

import click

__all__ = ["json_parameters", "split_param", "typed_parameters"]


def split_param(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` as (key, raw value)."""
    if "=" not in text:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE; write e.g. --param n=3.")
    key, raw = text.split("=", 1)
    if not key:
        raise click.BadParameter(f"{text!r} has no name before '='; write e.g. --param n=3.")
    return key, raw


def json_parameters(text: str | None) -> dict[str, Any]:
    """``--params '{"n": 3}'`` (Prefect 1's spelling): a JSON object of parameters."""
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not JSON ({exc}); write e.g. --params '{{\"n\": 3}}'.",
            param_hint="--params",
        ) from None
    if not isinstance(value, dict):
        raise click.BadParameter(
            f"{text!r} is not a JSON object of parameters; write e.g. --params '{{\"n\": 3}}'.",
            param_hint="--params",
        )
    return value


def typed_parameters(
    serialized_flow: dict[str, Any] | None,
    given: list[tuple[str, str]],
    typed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run's parameters from ``--param`` pairs (and ``typed``, values already read,
    as ``--params JSON`` gives them; a pair wins), checked against the flow's (if known)."""
    declared = {
        p["name"]: p
        for p in (serialized_flow or {}).get("parameters") or []
        if isinstance(p, dict) and isinstance(p.get("name"), str)
    }
    name = (serialized_flow or {}).get("name", "?")

    def declared_or_refused(key: str, given_as: str) -> dict[str, Any] | None:
        spec = declared.get(key)
        if serialized_flow is not None and spec is None:
            known = ", ".join(sorted(declared)) or "none"
            raise click.ClickException(
                f"Flow {name!r} has no parameter {key!r} (its parameters: {known}); "
                f"drop {given_as} or fix its name."
            )
        return spec

    values: dict[str, Any] = {}
    for key, value in (typed or {}).items():
        declared_or_refused(key, f"{key!r} from --params")
        values[key] = value
    for key, raw in given:
        spec = declared_or_refused(key, f"--param {key}=…")
        values[key] = _read(key, raw, None if spec is None else spec.get("default"), spec)
    missing = [n for n, spec in declared.items() if spec.get("required") and n not in values]
    if missing:
        raise click.ClickException(
            f"Flow {name!r} needs "
            + ", ".join(f"--param {n}=…" for n in sorted(missing))
            + " (a required parameter, with no default)."
        )
    return values


def _read(key: str, raw: str, default: Any, spec: dict[str, Any] | None) -> Any:
    if isinstance(default, str):
        return raw  # text stays text, even when it looks like a number
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    expected = _json_type(default) if spec is not None and not spec.get("required") else None
    if (
        expected is not None
        and _json_type(value) != expected
        and not (expected == "number" and _json_type(value) == "integer")
    ):
        raise click.ClickException(
            f"--param {key}={raw} is {_article(_json_type(value))}, but the parameter {key!r} "
            f"takes {_article(expected)} (its default is {json.dumps(default)}); write e.g. "
            f"--param {key}={json.dumps(default)}."
        )
    return value


def _json_type(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _article(kind: str | None) -> str:
    kind = kind or "null"
    return ("an " if kind[0] in "aeiou" else "a ") + kind
