"""Schedules as JSON: what the server stores and its scheduler service rebuilds.

Format (version 1)::

    {"version": 1,
     "clocks": [
        {"type": "IntervalClock", "interval": 3600,            # seconds
         "start_date": "2024-03-01T09:00:00-05:00[America/New_York]",
         "end_date": null, "parameter_defaults": {}, "labels": null},
        {"type": "CronClock", "cron": "0 9 * * 1-5", "day_or": true, ...},
        {"type": "DatesClock", "dates": ["2024-06-01T12:00:00+00:00"], ...},
        {"type": "RRuleClock", "start_date": null, "end_date": null, ...,
         "rrule": {"kind": "rrule",
                   "rule": "DTSTART:20240101T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO,FR",
                   "dtstart": "2024-01-01T09:00:00-05:00[America/New_York]",
                   "until": null}}],
     "filters": [{"name": "between_times", "args": {"start": "09:00:00", "end": "17:00:00"}}],
     "or_filters": [], "not_filters": [],
     "adjustments": [{"name": "add", "args": {"interval": 900}}]}

A datetime is ISO 8601 with its UTC offset, followed by its IANA zone in brackets
when it has one (UTC and fixed offsets need none), so the instant and the zone
whose wall clock the schedule follows both survive. Filters and adjustments are
stored by name with their arguments; only those made by ``weir.schedules.filters``
and ``weir.schedules.adjustments`` can be. An ``RRuleClock``'s rule is its RFC 5545
text with ``dtstart`` and ``until`` beside it (the text drops their zones); an
rruleset is ``{"kind": "rruleset", "rrules": [...], "exrules": [...], "rdates":
[...], "exdates": [...]}``. A naive datetime (an rrule's, which means UTC) is
written without an offset. Bad data raises ``ScheduleError`` (a
ValueError) naming the field, e.g. ``clocks[0].interval``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from weir.exceptions import ScheduleError
from weir.schedules import adjustments, filters
from weir.schedules.clocks import Clock, CronClock, DatesClock, IntervalClock, RRuleClock
from weir.schedules.rrules import RRuleBase, rrule_from_text, rrule_parts, rruleset_from_parts
from weir.schedules.rules import Rule
from weir.schedules.schedule import Schedule
from weir.schedules.zones import zone_name

FORMAT_VERSION = 1
RULE_LISTS = ("filters", "or_filters", "not_filters", "adjustments")

# Each rule name -> (the factory, or the ready-made rule; its arguments' kinds).
RuleSpec = tuple[Callable[..., Rule] | Rule, dict[str, str]]
FILTERS: dict[str, RuleSpec] = {
    "on_datetime": (filters.on_datetime, {"dt": "datetime"}),
    "on_date": (filters.on_date, {"month": "int", "day": "int"}),
    "at_time": (filters.at_time, {"t": "time"}),
    "between_datetimes": (filters.between_datetimes, {"start": "datetime", "end": "datetime"}),
    "between_times": (filters.between_times, {"start": "time", "end": "time"}),
    "between_dates": (
        filters.between_dates,
        {"start_month": "int", "start_day": "int", "end_month": "int", "end_day": "int"},
    ),
    "is_day_of_week": (filters.is_day_of_week, {"day_of_week": "int"}),
    "is_weekday": (filters.is_weekday, {}),
    "is_weekend": (filters.is_weekend, {}),
    "is_month_end": (filters.is_month_end, {}),
    "is_month_start": (filters.is_month_start, {}),
}
ADJUSTMENTS: dict[str, RuleSpec] = {
    "add": (adjustments.add, {"interval": "timedelta"}),
    "next_weekday": (adjustments.next_weekday, {}),
}

_DATETIME = re.compile(r"^(?P<iso>[^\[\]]+)(?:\[(?P<zone>[^\[\]]+)\])?$")


# --- writing ---------------------------------------------------------------


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """``schedule`` as a JSON-able dict; raises ScheduleError naming what cannot be stored."""
    data: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "clocks": [_clock_to_dict(c, f"clocks[{i}]") for i, c in enumerate(schedule.clocks)],
    }
    for field in RULE_LISTS:
        known = ADJUSTMENTS if field == "adjustments" else FILTERS
        rules = getattr(schedule, field)
        data[field] = [_rule_to_dict(r, known, f"{field}[{i}]") for i, r in enumerate(rules)]
    return data


def datetime_to_str(value: datetime) -> str:
    """ISO 8601 with offset, plus ``[Zone/Name]`` when the zone has a name."""
    name = zone_name(value.tzinfo)
    return value.isoformat() if name is None else f"{value.isoformat()}[{name}]"


def _clock_to_dict(clock: Clock, field: str) -> dict[str, Any]:
    common = {
        "parameter_defaults": _json_parameters(clock.parameter_defaults, field),
        "labels": clock.labels,
    }
    if type(clock) is IntervalClock:
        return {
            "type": "IntervalClock",
            "interval": _seconds(clock.interval),
            **_dates_to_dict(clock, field),
            **common,
        }
    if type(clock) is CronClock:
        return {
            "type": "CronClock",
            "cron": clock.cron,
            "day_or": clock.day_or,
            **_dates_to_dict(clock, field),
            **common,
        }
    if type(clock) is DatesClock:
        dates = [_datetime_field(d, f"{field}.dates[{i}]") for i, d in enumerate(clock.dates)]
        return {"type": "DatesClock", "dates": dates, **common}
    if type(clock) is RRuleClock:
        return {
            "type": "RRuleClock",
            "rrule": _rrule_to_dict(clock.rrule_obj, f"{field}.rrule"),
            **_dates_to_dict(clock, field),
            **common,
        }
    raise ScheduleError(
        f"Schedule {field} is a {type(clock).__name__}, which cannot be serialized; "
        "only IntervalClock, CronClock, DatesClock and RRuleClock can be stored."
    )


def _rrule_to_dict(obj: RRuleBase, field: str) -> dict[str, Any]:
    parts = rrule_parts(obj)
    if parts["kind"] == "rrule":
        for key in ("dtstart", "until"):
            parts[key] = _datetime_field(parts[key], f"{field}.{key}")
        return parts
    for key, rules in (("rrules", obj._rrule), ("exrules", obj._exrule)):  # type: ignore[attr-defined]
        parts[key] = [_rrule_to_dict(r, f"{field}.{key}[{i}]") for i, r in enumerate(rules)]
    for key in ("rdates", "exdates"):
        parts[key] = [_datetime_field(d, f"{field}.{key}[{i}]") for i, d in enumerate(parts[key])]
    return parts


def _dates_to_dict(clock: Clock, field: str) -> dict[str, Any]:
    return {
        "start_date": _datetime_field(clock.start_date, f"{field}.start_date"),
        "end_date": _datetime_field(clock.end_date, f"{field}.end_date"),
    }


def _datetime_field(value: datetime | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return datetime_to_str(value)
    except ValueError as exc:
        raise ScheduleError(f"Schedule {field}: {exc}") from exc


def _json_parameters(value: dict[str, Any], field: str) -> dict[str, Any]:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ScheduleError(
            f"Schedule {field}.parameter_defaults cannot be stored as JSON ({exc}); "
            "use strings, numbers, booleans, None, lists and dicts."
        ) from exc
    return value


def _rule_to_dict(rule: Callable[..., Any], known: dict[str, RuleSpec], field: str) -> dict:
    if not isinstance(rule, Rule) or rule.name not in known:
        name = getattr(rule, "__qualname__", None) or repr(rule)
        module = "adjustments" if known is ADJUSTMENTS else "filters"
        raise ScheduleError(
            f"Schedule {field} is the callable {name!r}, which cannot be serialized; "
            f"use the ones in weir.schedules.{module} (e.g. {next(iter(known))}), "
            "or keep this schedule for local runs only."
        )
    kinds = known[rule.name][1]
    args = {
        key: _encode(kinds[key], value, f"{field}.args.{key}")
        for key, value in rule.arguments.items()
    }
    return {"name": rule.name, "args": args}


def _encode(kind: str, value: Any, field: str) -> Any:
    if kind == "datetime":
        return _datetime_field(value, field)
    if kind == "time":
        return value.isoformat()
    if kind == "timedelta":
        return _seconds(value)
    return value


def _seconds(value: timedelta) -> int | float:
    """Seconds, as an int when whole so the JSON stays readable."""
    micros = value // timedelta(microseconds=1)
    return micros // 1_000_000 if micros % 1_000_000 == 0 else micros / 1_000_000


# --- reading ---------------------------------------------------------------


def schedule_from_dict(data: Any) -> Schedule:
    """Rebuild a Schedule from ``schedule_to_dict``'s output."""
    if not isinstance(data, dict):
        raise ScheduleError(
            f"Schedule data must be a dict (the output of Schedule.serialize()), "
            f"got {type(data).__name__}.",
            field="",
        )
    _check_keys(data, {"version", "clocks", *RULE_LISTS}, "Schedule data", "")
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ScheduleError(
            f"Schedule version is {version!r}, but this weir reads version {FORMAT_VERSION}; "
            "upgrade weir or store the schedule again.",
            field="version",
        )
    clocks = data.get("clocks")
    if not isinstance(clocks, list):
        raise ScheduleError(
            f"Schedule clocks must be a list of clocks, got {clocks!r}.", field="clocks"
        )
    parts: dict[str, Any] = {
        "clocks": [_clock_from_dict(c, f"clocks[{i}]") for i, c in enumerate(clocks)]
    }
    for field in RULE_LISTS:
        known = ADJUSTMENTS if field == "adjustments" else FILTERS
        rules = data.get(field)
        rules = [] if rules is None else rules
        if not isinstance(rules, list):
            raise ScheduleError(f"Schedule {field} must be a list, got {rules!r}.", field=field)
        parts[field] = [_rule_from_dict(r, known, f"{field}[{i}]") for i, r in enumerate(rules)]
    return Schedule(**parts)


def datetime_from_str(value: Any, field: str) -> datetime:
    """Parse ``datetime_to_str``'s output; raises ScheduleError naming ``field``."""
    match = _DATETIME.match(value) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError("expected an ISO 8601 string")
        parsed = datetime.fromisoformat(match["iso"])
        zone = ZoneInfo(match["zone"]) if match["zone"] else None
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise ScheduleError(
            f"Schedule {field} must be an ISO 8601 datetime such as "
            f"'2024-03-01T09:00:00-05:00[America/New_York]', got {value!r} ({exc}).",
            field=field,
        ) from exc
    if zone is None:
        return parsed
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone)
    return parsed.astimezone(zone)


def _clock_from_dict(data: Any, field: str) -> Clock:
    if not isinstance(data, dict):
        raise ScheduleError(
            f"Schedule {field} must be a dict describing a clock, got {data!r}.", field=field
        )
    kind = data.get("type")
    readers = {
        "IntervalClock": _interval_clock,
        "CronClock": _cron_clock,
        "DatesClock": _dates_clock,
        "RRuleClock": _rrule_clock,
    }
    if kind not in readers:
        raise ScheduleError(
            f"Schedule {field}.type is {kind!r}; expected one of {', '.join(readers)}.",
            field=f"{field}.type",
        )
    common = {
        "parameter_defaults": _parameters_field(data.get("parameter_defaults"), field),
        "labels": _labels_field(data.get("labels"), field),
    }
    try:
        return readers[kind](data, field, common)
    except (TypeError, OverflowError, ScheduleError) as exc:
        if isinstance(exc, ScheduleError) and str(exc).startswith(("Schedule ", field)):
            raise  # already names where in the schedule it is
        # A clock's own check names its argument (e.g. "cron"); place it in this clock.
        inner = getattr(exc, "field", None)
        where = f"{field}.{inner}" if inner else field
        raise ScheduleError(f"Schedule {field}: {exc}", field=where) from exc


def _interval_clock(data: dict, field: str, common: dict) -> Clock:
    _check_keys(data, {"type", "interval", "start_date", "end_date", *common}, field, field)
    seconds = data.get("interval")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ScheduleError(
            f"Schedule {field}.interval must be a number of seconds greater than 0, "
            f"got {seconds!r}.",
            field=f"{field}.interval",
        )
    interval = _decode("timedelta", seconds, f"{field}.interval")
    return IntervalClock(interval, **_dates_from_dict(data, field), **common)


def _cron_clock(data: dict, field: str, common: dict) -> Clock:
    _check_keys(data, {"type", "cron", "day_or", "start_date", "end_date", *common}, field, field)
    cron, day_or = data.get("cron"), data.get("day_or")
    if not isinstance(cron, str):
        raise ScheduleError(
            f"Schedule {field}.cron must be a cron string, got {cron!r}.", field=f"{field}.cron"
        )
    if day_or is not None and not isinstance(day_or, bool):
        raise ScheduleError(
            f"Schedule {field}.day_or must be true, false or null, got {day_or!r}.",
            field=f"{field}.day_or",
        )
    return CronClock(cron, **_dates_from_dict(data, field), day_or=day_or, **common)


def _dates_clock(data: dict, field: str, common: dict) -> Clock:
    _check_keys(data, {"type", "dates", *common}, field, field)
    dates = data.get("dates")
    if not isinstance(dates, list) or not dates:
        raise ScheduleError(
            f"Schedule {field}.dates must be a non-empty list, got {dates!r}.",
            field=f"{field}.dates",
        )
    parsed = [datetime_from_str(d, f"{field}.dates[{i}]") for i, d in enumerate(dates)]
    return DatesClock(parsed, **common)


def _rrule_clock(data: dict, field: str, common: dict) -> Clock:
    _check_keys(data, {"type", "rrule", "start_date", "end_date", *common}, field, field)
    rule = _rrule_from_dict(data.get("rrule"), f"{field}.rrule")
    return RRuleClock(rule, **_dates_from_dict(data, field), **common)


def _rrule_from_dict(data: Any, field: str) -> RRuleBase:
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "rruleset":
        return _rruleset_from_dict(data, field)
    if kind != "rrule":
        raise ScheduleError(
            f"Schedule {field} must be a dict with kind 'rrule' or 'rruleset', got {data!r}."
        )
    _check_keys(data, {"kind", "rule", "dtstart", "until"}, field, field)
    text, until = data.get("rule"), data.get("until")
    if not isinstance(text, str):
        raise ScheduleError(f"Schedule {field}.rule must be RFC 5545 text, got {text!r}.")
    dtstart = datetime_from_str(data.get("dtstart"), f"{field}.dtstart")
    until = None if until is None else datetime_from_str(until, f"{field}.until")
    try:
        return rrule_from_text(text, dtstart, until)
    except (ValueError, TypeError) as exc:
        raise ScheduleError(f"Schedule {field} is not a valid recurrence rule: {exc}.") from exc


def _rruleset_from_dict(data: dict, field: str) -> RRuleBase:
    _check_keys(data, {"kind", "rrules", "exrules", "rdates", "exdates"}, field, field)
    lists: dict[str, list[Any]] = {}
    for key in ("rrules", "exrules", "rdates", "exdates"):
        items = data.get(key)
        items = [] if items is None else items
        if not isinstance(items, list):
            raise ScheduleError(f"Schedule {field}.{key} must be a list, got {items!r}.")
        read = _rrule_from_dict if key.endswith("rules") else datetime_from_str
        lists[key] = [read(item, f"{field}.{key}[{i}]") for i, item in enumerate(items)]
    try:
        return rruleset_from_parts(**lists)
    except (ValueError, TypeError) as exc:
        raise ScheduleError(f"Schedule {field} is not a valid rule set: {exc}.") from exc


def _dates_from_dict(data: dict, field: str) -> dict[str, datetime | None]:
    found: dict[str, datetime | None] = {}
    for key in ("start_date", "end_date"):
        value = data.get(key)
        found[key] = None if value is None else datetime_from_str(value, f"{field}.{key}")
    return found


def _parameters_field(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ScheduleError(
            f"Schedule {field}.parameter_defaults must be a dict keyed by parameter name, "
            f"got {value!r}.",
            field=f"{field}.parameter_defaults",
        )
    return value


def _labels_field(value: Any, field: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        raise ScheduleError(
            f"Schedule {field}.labels must be a list of strings, got {value!r}.",
            field=f"{field}.labels",
        )
    return value


def _rule_from_dict(data: Any, known: dict[str, RuleSpec], field: str) -> Rule:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ScheduleError(
            f"Schedule {field} must be a dict like {{'name': 'is_weekday', 'args': {{}}}}, "
            f"got {data!r}.",
            field=field,
        )
    _check_keys(data, {"name", "args"}, field, field)
    name, args = data["name"], data.get("args")
    args = {} if args is None else args
    if name not in known:
        raise ScheduleError(
            f"Schedule {field}.name is {name!r}; expected one of {', '.join(known)}.",
            field=f"{field}.name",
        )
    if not isinstance(args, dict):
        raise ScheduleError(
            f"Schedule {field}.args must be a dict, got {args!r}.", field=f"{field}.args"
        )
    made, kinds = known[name]
    if set(args) != set(kinds):
        raise ScheduleError(
            f"Schedule {field}.args for {name} must have exactly "
            f"{sorted(kinds) or 'no keys'}, got {sorted(args)}.",
            field=f"{field}.args",
        )
    if isinstance(made, Rule):
        return made
    decoded = {
        key: _decode(kinds[key], value, f"{field}.args.{key}") for key, value in args.items()
    }
    try:
        return made(**decoded)
    except (TypeError, ScheduleError) as exc:
        raise ScheduleError(f"Schedule {field}: {exc}", field=f"{field}.args") from exc


def _decode(kind: str, value: Any, field: str) -> Any:
    if kind == "datetime":
        return datetime_from_str(value, field)
    if kind == "time":
        try:
            return time.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise ScheduleError(
                f"Schedule {field} must be a time like '09:30:00', got {value!r}.", field=field
            ) from exc
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "timedelta" and number:
        try:
            return timedelta(seconds=value)
        except OverflowError as exc:
            raise ScheduleError(
                f"Schedule {field} is {value!r} seconds, more than a timedelta can hold.",
                field=field,
            ) from exc
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    expected = "a number of seconds" if kind == "timedelta" else "an integer"
    raise ScheduleError(f"Schedule {field} must be {expected}, got {value!r}.", field=field)


def _check_keys(data: dict, allowed: set[str], name: str, field: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScheduleError(
            f"{name} has unknown field(s) {', '.join(map(repr, unknown))}; "
            f"expected only {', '.join(sorted(allowed))}.",
            field=f"{field}.{unknown[0]}" if field else unknown[0],
        )


def field_path(field: str) -> tuple[str | int, ...]:
    """A ScheduleError's ``field`` as path parts: ``clocks[0].cron`` -> ("clocks", 0, "cron")."""
    return tuple(
        int(part) if part.isdigit() else part for part in re.split(r"[.\[\]]+", field) if part
    )
