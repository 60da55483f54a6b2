"""Time-zone helpers shared by clocks, filters and adjustments.

Invariants every schedule module relies on:

- Every datetime a clock stores or yields is an aware, plain ``datetime.datetime``.
  A naive datetime given by a user means UTC (as in Prefect 1). A subclass such as
  pendulum's ``DateTime`` (what Prefect 1 flows pass) is turned into a plain one in
  the same zone: its arithmetic differs from the standard library's (subtracting two
  gives a pendulum ``Interval``), which the calendar steps below do not expect.
- Instants are compared in UTC (``to_utc``), never directly. Python compares two
  aware datetimes that share a tzinfo by their wall clock and ignores ``fold``,
  so 01:30 EDT and 01:30 EST on a fall-back night would compare equal; and an
  inter-zone ``==`` involving a folded time is always False (PEP 495).
- Two ways to move along the calendar:
  ``add_absolute`` steps elapsed time (UTC), ``add_wall_clock`` steps the wall
  clock of the datetime's own zone (the hour of day stays put across DST).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc


def now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


def ensure_aware(value: object, field: str) -> datetime:
    """``value`` as an aware datetime (naive means UTC); TypeError naming ``field`` if not one."""
    if not isinstance(value, datetime):
        raise TypeError(
            f"{field} must be a datetime.datetime, got {type(value).__name__} {value!r}; "
            "pass e.g. datetime(2024, 1, 1, 9, tzinfo=ZoneInfo('Europe/Berlin'))."
        )
    if value.tzinfo is None or value.utcoffset() is None:
        # fold=0: pendulum's naive datetimes default to fold=1, which means nothing in UTC.
        return plain(value).replace(tzinfo=UTC, fold=0)
    zone = _pytz_zone_name(value.tzinfo)
    if zone is not None:
        # pytz zones do not do wall-clock arithmetic correctly with replace(); use zoneinfo's.
        return plain(value).astimezone(ZoneInfo(zone))
    if type(value) is datetime and type(value.tzinfo) in _STDLIB_ZONES:
        return value
    return _from_foreign(value)


_STDLIB_ZONES = (ZoneInfo, timezone)


def plain(value: datetime) -> datetime:
    """The same wall time, zone and fold as a plain ``datetime.datetime`` (not a subclass)."""
    if type(value) is datetime:
        return value
    return datetime(
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond, tzinfo=value.tzinfo, fold=value.fold,
    )  # fmt: skip


def plain_timedelta(value: timedelta) -> timedelta:
    """A ``timedelta`` subclass (pendulum's ``Duration``) as a plain one of the same length.

    pendulum's arithmetic fails against plain timedeltas (``duration // timedelta``).
    """
    if type(value) is timedelta:
        return value
    return timedelta(days=value.days, seconds=value.seconds, microseconds=value.microseconds)


def _from_foreign(value: datetime) -> datetime:
    """An aware datetime of another library (pendulum) as a plain one in the same zone.

    pendulum 3's zones subclass ZoneInfo and pendulum 2's carry an IANA ``name``: both
    become the ZoneInfo of that name, so wall-clock steps still follow the zone's DST
    rules. A fixed offset becomes a ``timezone``. Any other tzinfo (dateutil's) is kept.
    """
    tz = value.tzinfo
    assert tz is not None
    name = getattr(tz, "key", None) if isinstance(tz, ZoneInfo) else None
    if name is None and type(tz).__module__.split(".")[0] == "pendulum":
        name = getattr(tz, "name", None)
        if not _is_zone_name(name):
            # A pendulum FixedTimezone: the offset is all there is.
            return plain(value).astimezone(timezone(value.utcoffset() or timedelta(0)))
    if name is None:
        return plain(value)
    if name == "UTC":
        return plain(value).astimezone(UTC)
    # Through UTC, so the instant (and with it the fold) is the one the user meant.
    return plain(value).astimezone(UTC).astimezone(ZoneInfo(name))


def _is_zone_name(name: object) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return False
    return True


def _pytz_zone_name(tz: tzinfo) -> str | None:
    """The IANA name of a pytz zone, or None for any other kind of tzinfo."""
    name = getattr(tz, "zone", None)
    if isinstance(name, str) and hasattr(tz, "localize"):
        return name
    return None


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC (naive values are taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def zone_name(tz: tzinfo | None) -> str | None:
    """The IANA name of ``tz``; None for UTC and fixed offsets, which an ISO offset says in full."""
    if tz is None or isinstance(tz, timezone):
        return None
    key = getattr(tz, "key", None) or _pytz_zone_name(tz)
    if not isinstance(key, str):
        raise ValueError(
            f"The time zone {tz!r} has no IANA name, so it cannot be stored; "
            "use zoneinfo.ZoneInfo('Area/City') for start dates and dates."
        )
    return key


def add_absolute(value: datetime, delta: timedelta) -> datetime:
    """``value + delta`` in elapsed time, expressed in ``value``'s zone."""
    return (to_utc(value) + delta).astimezone(value.tzinfo)


def add_wall_clock(value: datetime, delta: timedelta) -> datetime:
    """``value + delta`` on the wall clock of ``value``'s zone (see ``localize_shift``)."""
    return localize_shift(value.replace(tzinfo=None) + delta, value.tzinfo)


def localize_shift(naive: datetime, tz: tzinfo | None) -> datetime:
    """Attach ``tz`` to a wall-clock time, normalized.

    An ambiguous time (the repeated hour of a fall-back night) means its first
    occurrence. A time that does not exist (the skipped hour of a spring-forward
    night) is moved forward by the length of the gap: 02:30 becomes 03:30.
    """
    aware = naive.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz)


def localize_gap_end(naive: datetime, tz: tzinfo | None) -> datetime:
    """Attach ``tz`` to a wall-clock time; a time inside a gap becomes the instant the gap ends.

    Ambiguous times mean their first occurrence, as in ``localize_shift``. This is
    cron's rule: a job due in the skipped hour runs as the clocks jump.
    """
    shifted = localize_shift(naive, tz)
    if shifted.replace(tzinfo=None) == naive:
        return shifted
    # Inside a gap: fold=1 reads the time with the offset after the transition,
    # which lands before it; fold=0 reads it with the offset before, which lands
    # after it. The transition lies between; tz databases put it on a whole second.
    low = int(naive.replace(tzinfo=tz, fold=1).timestamp())
    high = int(to_utc(shifted).timestamp()) + 1
    after_offset = shifted.utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, tz)
