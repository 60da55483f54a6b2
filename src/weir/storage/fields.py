"""Reading a serialized storage back, field by field, with errors that name the field."""

from __future__ import annotations

from typing import Any

from weir.exceptions import StorageError


class Fields:
    """The fields of one serialized storage; each read checks the type, ``done()`` the rest."""

    def __init__(self, data: dict[str, Any], kind: str) -> None:
        self.data = data
        self.kind = kind
        self._read = {"type"}

    def _get(self, name: str, required: bool) -> Any:
        self._read.add(name)
        if name not in self.data or self.data[name] is None:
            if required:
                raise self.error(name, "is missing")
            return None
        return self.data[name]

    def error(self, name: str, problem: str) -> StorageError:
        return StorageError(
            f"The {self.kind} storage's field {name!r} {problem}; "
            f"register the flow again to store a {self.kind} storage that weir can read.",
            field=name,
        )

    def text(self, name: str, required: bool = False) -> str | None:
        value = self._get(name, required)
        if value is not None and (not isinstance(value, str) or not value):
            raise self.error(name, f"must be a non-empty string, not {value!r}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, not {value!r}")
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        value = self._get(name, False)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.error(name, f"must be an object with string keys, not {value!r}")
        return dict(value)

    def flows(self) -> dict[str, str]:
        """The flow name -> location map every storage carries ("" = the storage itself)."""
        flows = self.mapping("flows")
        for name, location in flows.items():
            if not isinstance(location, str):
                raise self.error("flows", f"maps flow {name!r} to {location!r}, not a location")
        return flows

    def done(self) -> None:
        """Refuse fields this kind does not have (a typo would otherwise pass silently)."""
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            raise StorageError(
                f"The {self.kind} storage has unknown field{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(u) for u in unknown)}; remove "
                f"{'them' if len(unknown) > 1 else 'it'} or check the spelling.",
                field=unknown[0],
            )
