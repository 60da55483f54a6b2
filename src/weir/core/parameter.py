"""``weir.core.parameter``: flow inputs, at Prefect 1's ``prefect.core.parameter`` path.

``Parameter`` itself lives in ``weir.core.task``. ``DateTimeParameter`` turns its
value into an aware ``datetime`` when the flow runs, as Prefect 1's does: an ISO
8601 string (what a server or CLI sends) is parsed, a date alone meaning
midnight, and a value without a zone means UTC. The result is a standard
``datetime.datetime``, not a pendulum one.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from dateutil.parser import isoparse

from weir.core.task import Parameter

__all__ = ["DateTimeParameter", "Parameter"]


class DateTimeParameter(Parameter):
    """A Parameter whose value is read as an aware datetime (ISO 8601 strings are parsed).

    As for every Parameter, one with no default is required; ``required=False``
    without a default gives None.
    """

    def run(self) -> _dt.datetime | None:
        value = super().run()
        if value is None:
            return None
        return as_datetime(value, self.name)

    def __repr__(self) -> str:
        return f"<DateTimeParameter: {self.name}>"


def as_datetime(value: Any, name: str) -> _dt.datetime:
    """``value`` as an aware datetime; ValueError naming the parameter if it is not one."""
    if isinstance(value, str):
        try:
            parsed = isoparse(value)
        except ValueError as exc:
            raise ValueError(
                f"Parameter '{name}' got {value!r}, which is not an ISO 8601 datetime "
                f"({exc}); pass e.g. '2024-01-31T09:00:00+01:00' or '2024-01-31'."
            ) from None
        offset = parsed.utcoffset()
        if offset is not None:
            # The standard library's fixed offsets instead of dateutil's tzutc/tzoffset.
            zone = _dt.timezone.utc if not offset else _dt.timezone(offset)
            parsed = parsed.replace(tzinfo=zone)
        value = parsed
    elif isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, _dt.datetime):
        raise TypeError(
            f"Parameter '{name}' must be a datetime or an ISO 8601 string, got "
            f"{type(value).__name__} {value!r}."
        )
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value
