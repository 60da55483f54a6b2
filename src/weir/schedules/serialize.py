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

The format is pydantic models, one per clock, rule and rule kind, in unions told
apart by ``type`` (clocks), ``name`` (filters, adjustments) or ``kind`` (rrules).
The same models check both ways: reading validates the JSON; writing validates the
Schedule's own objects (a clock, a rule, an rrule become their fields first), so
what cannot be stored is refused with the same kind of message, naming where.
Every refusal is a ``SchemaFault`` (a pydantic custom error) whose location
pydantic tracks; ``_schedule_error`` turns the first one into a ScheduleError.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from weir.exceptions import ScheduleError
from weir.schedules import adjustments, filters
from weir.schedules.clocks import Clock, CronClock, DatesClock, IntervalClock, RRuleClock
from weir.schedules.rrules import RRuleBase, rrule_from_text, rrule_parts, rruleset_from_parts
from weir.schedules.rules import Rule
from weir.schedules.schedule import Schedule
from weir.schedules.zones import zone_name

FORMAT_VERSION = 1
RULE_LISTS = ("filters", "or_filters", "not_filters", "adjustments")

_DATETIME = re.compile(r"^(?P<iso>[^\[\]]+)(?:\[(?P<zone>[^\[\]]+)\])?$")
_DATETIME_EXAMPLE = "'2024-03-01T09:00:00-05:00[America/New_York]'"


def fault(rest: str, *, sub: str = "") -> PydanticCustomError:
    """A refusal: the message is ``Schedule <where><rest>``; ``sub`` extends where (a key)."""
    return PydanticCustomError("schedule", "{rest}", {"rest": rest, "sub": sub})


# --- field types: each reads its JSON form, takes its Python form, writes JSON ---------


def datetime_to_str(value: datetime) -> str:
    """ISO 8601 with offset, plus ``[Zone/Name]`` when the zone has a name."""
    name = zone_name(value.tzinfo)
    return value.isoformat() if name is None else f"{value.isoformat()}[{name}]"


def datetime_from_str(value: Any, field: str) -> datetime:
    """Parse ``datetime_to_str``'s output; raises ScheduleError naming ``field``."""
    try:
        return _parse_datetime(value)
    except PydanticCustomError as exc:
        raise ScheduleError(f"Schedule {field}{exc.context['rest']}", field=field) from None  # type: ignore[index]


def _parse_datetime(value: Any) -> datetime:
    match = _DATETIME.match(value) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError("expected an ISO 8601 string")
        parsed = datetime.fromisoformat(match["iso"])
        zone = ZoneInfo(match["zone"]) if match["zone"] else None
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise fault(
            f" must be an ISO 8601 datetime such as {_DATETIME_EXAMPLE}, got {value!r} ({exc})."
        ) from exc
    if zone is None:
        return parsed
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=zone)
    return parsed.astimezone(zone)


def _datetime(value: Any) -> datetime:
    if not isinstance(value, datetime):
        return _parse_datetime(value)
    try:
        zone_name(value.tzinfo)  # a zone without a name could not be read back
    except ValueError as exc:
        raise fault(f": {exc}") from exc
    return value


def _seconds(value: timedelta) -> int | float:
    """Seconds, as an int when whole so the JSON stays readable."""
    micros = value // timedelta(microseconds=1)
    return micros // 1_000_000 if micros % 1_000_000 == 0 else micros / 1_000_000


def _timedelta(value: Any, expected: str, positive: bool) -> timedelta:
    if isinstance(value, timedelta):
        return value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or (positive and value <= 0):
        raise fault(f" must be {expected}, got {value!r}.")
    try:
        return timedelta(seconds=value)
    except OverflowError as exc:
        raise fault(f" is {value!r} seconds, more than a timedelta can hold.") from exc


def _interval(value: Any) -> timedelta:
    return _timedelta(value, "a number of seconds greater than 0", positive=True)


def _any_seconds(value: Any) -> timedelta:
    return _timedelta(value, "a number of seconds", positive=False)


def _time(value: Any) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise fault(f" must be a time like '09:30:00', got {value!r}.") from exc


def _parameters(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise fault(f" must be a dict keyed by parameter name, got {value!r}.")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise fault(
            f" cannot be stored as JSON ({exc}); "
            "use strings, numbers, booleans, None, lists and dicts."
        ) from exc
    return value


def _must(what: str, ok: Callable[[Any], bool]) -> PlainValidator:
    """Take a value ``ok`` accepts; refuse any other as not ``what``."""

    def check(value: Any) -> Any:
        if not ok(value):
            raise fault(f" must be {what}, got {value!r}.")
        return value

    return PlainValidator(check)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _are_labels(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _a_list(what: str, *, required: bool = False, non_empty: bool = False) -> BeforeValidator:
    """A list is a list (None reads as an empty one unless ``required``)."""

    def check(value: Any) -> Any:
        if value is None and not required:
            return []
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list) or (non_empty and not value):
            raise fault(f" must be {what}, got {value!r}.")
        return value

    return BeforeValidator(check)


DateTime = Annotated[datetime, PlainValidator(_datetime), PlainSerializer(datetime_to_str)]
OptionalDateTime = DateTime | None
Interval = Annotated[timedelta, PlainValidator(_interval), PlainSerializer(_seconds)]
Seconds = Annotated[timedelta, PlainValidator(_any_seconds), PlainSerializer(_seconds)]
Time = Annotated[time, PlainValidator(_time), PlainSerializer(time.isoformat)]
Int = Annotated[int, _must("an integer", _is_int)]
Text = Annotated[str, _must("RFC 5545 text", lambda v: isinstance(v, str))]
Cron = Annotated[str, _must("a cron string", lambda v: isinstance(v, str))]
DayOr = Annotated[
    bool | None, _must("true, false or null", lambda v: v is None or isinstance(v, bool))
]
Parameters = Annotated[dict[str, Any], PlainValidator(_parameters)]
Labels = Annotated[list[str] | None, _must("a list of strings", _are_labels)]


class Wire(BaseModel):
    """A part of the stored format: no keys but its fields; absent ones are checked as null."""

    model_config = ConfigDict(validate_default=True, frozen=True)
    keys: ClassVar[frozenset[str]] = frozenset()  # its fields' names, looked up once

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.keys = frozenset(cls.model_fields)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict) and not cls.keys.issuperset(data):
            unknown = sorted(set(data) - cls.keys)
            raise fault(
                f" has unknown field(s) {', '.join(map(repr, unknown))}; "
                f"expected only {', '.join(sorted(cls.keys))}.",
                sub=unknown[0],
            )
        return data


def _tagged(
    key: str, tags: Iterable[str], shape: str, to_fields: Callable[[Any], Any] | None = None
) -> BeforeValidator:
    """Check a union member before pydantic picks its model by ``key``.

    ``to_fields`` turns the Python object being written (a clock, a rule) into its
    fields; ``shape`` says what a member must be when it is not a dict with a known tag.
    """
    known = tuple(tags)

    def check(value: Any) -> Any:
        if to_fields is not None and not isinstance(value, dict):
            value = to_fields(value)
        if not isinstance(value, dict):
            raise fault(f" must be {shape}, got {value!r}.")
        tag = value.get(key)
        if tag not in known:
            if key == "kind":  # an rrule: its kind is what makes it a dict of the right shape
                raise fault(f" must be {shape}, got {value!r}.")
            if key == "name" and not isinstance(tag, str):
                raise fault(f" must be {shape}, got {value!r}.")
            raise fault(f".{key} is {tag!r}; expected one of {', '.join(known)}.", sub=key)
        return value

    return BeforeValidator(check)


# --- recurrence rules ----------------------------------------------------------------


class RRuleWire(Wire):
    kind: Literal["rrule"]
    rule: Text = None  # type: ignore[assignment]
    dtstart: DateTime = None  # type: ignore[assignment]  # null is refused as "got None"
    until: OptionalDateTime = None

    def build(self, field: str) -> RRuleBase:
        try:
            return rrule_from_text(self.rule, self.dtstart, self.until)
        except (ValueError, TypeError) as exc:
            raise ScheduleError(
                f"Schedule {field} is not a valid recurrence rule: {exc}.", field=field
            ) from exc


RULE_KINDS = ("rrule", "rruleset")
RULE_SHAPE = "a dict with kind 'rrule' or 'rruleset'"


def _rrule_fields(value: Any) -> Any:
    return rrule_parts(value) if isinstance(value, RRuleBase) else value


OneRRule = Annotated[RRuleWire, _tagged("kind", ("rrule",), RULE_SHAPE, _rrule_fields)]


class RRuleSetWire(Wire):
    kind: Literal["rruleset"]
    rrules: Annotated[list[OneRRule], _a_list("a list")] = None  # type: ignore[assignment]
    exrules: Annotated[list[OneRRule], _a_list("a list")] = None  # type: ignore[assignment]
    rdates: Annotated[list[DateTime], _a_list("a list")] = None  # type: ignore[assignment]
    exdates: Annotated[list[DateTime], _a_list("a list")] = None  # type: ignore[assignment]

    def build(self, field: str) -> RRuleBase:
        made = {
            key: [r.build(f"{field}.{key}[{i}]") for i, r in enumerate(getattr(self, key))]
            for key in ("rrules", "exrules")
        }
        try:
            return rruleset_from_parts(**made, rdates=self.rdates, exdates=self.exdates)
        except (ValueError, TypeError) as exc:
            raise ScheduleError(
                f"Schedule {field} is not a valid rule set: {exc}.", field=field
            ) from exc


AnyRRule = Annotated[
    RRuleWire | RRuleSetWire,
    Field(discriminator="kind"),
    _tagged("kind", RULE_KINDS, RULE_SHAPE, _rrule_fields),
]


def _fields(wire: Wire, *skip: str) -> dict[str, Any]:
    """A model's values as read (not as written), less its tag and ``skip``."""
    return {key: value for key, value in wire.__dict__.items() if key != "type" and key not in skip}


# --- clocks --------------------------------------------------------------------------
# Field order is the stored key order: a schedule written today reads as before.


class ClockWire(Wire):
    """A clock's model; its fields, less ``type``, are its clock's arguments."""

    clock: ClassVar[type[Clock]]

    def build(self, field: str) -> Clock:
        return self.clock(**_fields(self))


class IntervalClockWire(ClockWire):
    clock = IntervalClock
    type: Literal["IntervalClock"]
    interval: Interval = None  # type: ignore[assignment]
    start_date: OptionalDateTime = None
    end_date: OptionalDateTime = None
    parameter_defaults: Parameters = None  # type: ignore[assignment]
    labels: Labels = None


class CronClockWire(ClockWire):
    clock = CronClock
    type: Literal["CronClock"]
    cron: Cron = None  # type: ignore[assignment]
    day_or: DayOr = None
    start_date: OptionalDateTime = None
    end_date: OptionalDateTime = None
    parameter_defaults: Parameters = None  # type: ignore[assignment]
    labels: Labels = None


class DatesClockWire(ClockWire):
    clock = DatesClock
    type: Literal["DatesClock"]
    dates: Annotated[list[DateTime], _a_list("a non-empty list", required=True, non_empty=True)] = (
        None  # type: ignore[assignment]
    )
    parameter_defaults: Parameters = None  # type: ignore[assignment]
    labels: Labels = None


class RRuleClockWire(ClockWire):
    clock = RRuleClock
    type: Literal["RRuleClock"]
    rrule: AnyRRule = None  # type: ignore[assignment]
    start_date: OptionalDateTime = None
    end_date: OptionalDateTime = None
    parameter_defaults: Parameters = None  # type: ignore[assignment]
    labels: Labels = None

    def build(self, field: str) -> Clock:
        rule = self.rrule.build(f"{field}.rrule")
        return RRuleClock(rule, **_fields(self, "rrule"))


_CLOCK_WIRES = (IntervalClockWire, CronClockWire, DatesClockWire, RRuleClockWire)
_CLOCK_FIELDS = {wire.clock: tuple(wire.model_fields)[1:] for wire in _CLOCK_WIRES}
_CLOCK_NAMES = tuple(wire.clock.__name__ for wire in _CLOCK_WIRES)


def _clock_fields(clock: Any) -> Any:
    """A clock being written, as the fields its model reads."""
    fields = _CLOCK_FIELDS.get(type(clock))
    if fields is None:
        if not isinstance(clock, Clock):
            return clock
        raise fault(
            f" is a {type(clock).__name__}, which cannot be serialized; "
            "only IntervalClock, CronClock, DatesClock and RRuleClock can be stored."
        )
    values = {key: getattr(clock, key) for key in fields if key != "rrule"}
    if "rrule" in fields:
        values["rrule"] = clock.rrule_obj
    return {"type": type(clock).__name__, **values}


AnyClock = Annotated[
    IntervalClockWire | CronClockWire | DatesClockWire | RRuleClockWire,
    Field(discriminator="type"),
    _tagged("type", _CLOCK_NAMES, "a dict describing a clock", _clock_fields),
]


# --- filters and adjustments: one model per factory, its arguments in its order -------


class RuleArgs(Wire):
    """A rule's arguments: exactly its factory's, all present (absent args means none)."""

    rule: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise fault(f" must be a dict, got {data!r}.")
        if cls.keys.symmetric_difference(data):
            raise fault(
                f" for {cls.rule} must have exactly {sorted(cls.keys) or 'no keys'}, "
                f"got {sorted(data)}."
            )
        return data


class RuleWire(Wire):
    name: str
    args: RuleArgs

    def build(self, module: Any) -> Rule:
        made = getattr(module, self.name)
        if isinstance(made, Rule):
            return made
        return made(**self.args.__dict__)  # type: ignore[no-any-return]


def _rule_models(table: dict[str, dict[str, Any]]) -> dict[str, type[RuleWire]]:
    """A RuleWire subclass per rule name, ``args`` typed by its arguments' types."""
    made: dict[str, type[RuleWire]] = {}
    for name, arg_types in table.items():
        args = create_model(  # type: ignore[call-overload]
            f"{name}_args", __base__=RuleArgs, **{k: (t, ...) for k, t in arg_types.items()}
        )
        args.rule = name
        made[name] = create_model(  # type: ignore[call-overload]
            f"{name}_rule", __base__=RuleWire, name=(Literal[name], ...), args=(args, None)
        )
    return made


FILTERS = _rule_models(
    {
        "on_datetime": {"dt": DateTime},
        "on_date": {"month": Int, "day": Int},
        "at_time": {"t": Time},
        "between_datetimes": {"start": DateTime, "end": DateTime},
        "between_times": {"start": Time, "end": Time},
        "between_dates": {"start_month": Int, "start_day": Int, "end_month": Int, "end_day": Int},
        "is_day_of_week": {"day_of_week": Int},
        "is_weekday": {},
        "is_weekend": {},
        "is_month_end": {},
        "is_month_start": {},
    }
)
ADJUSTMENTS = _rule_models({"add": {"interval": Seconds}, "next_weekday": {}})


def _rule_fields(known: dict[str, type[RuleWire]], module: str) -> Callable[[Any], Any]:
    """A rule being written, as ``{"name", "args"}``; any other callable is refused."""

    def fields(rule: Any) -> Any:
        if isinstance(rule, Rule) and rule.name in known:
            return {"name": rule.name, "args": rule.arguments}
        if not callable(rule):
            return rule
        name = getattr(rule, "__qualname__", None) or repr(rule)
        raise fault(
            f" is the callable {name!r}, which cannot be serialized; "
            f"use the ones in weir.schedules.{module} (e.g. {next(iter(known))}), "
            "or keep this schedule for local runs only."
        )

    return fields


def _rule_union(known: dict[str, type[RuleWire]], module: str) -> Any:
    shape = "a dict like {'name': 'is_weekday', 'args': {}}"
    return Annotated[
        functools.reduce(operator.or_, known.values()),
        Field(discriminator="name"),
        _tagged("name", known, shape, _rule_fields(known, module)),
    ]


AnyFilter = _rule_union(FILTERS, "filters")
AnyAdjustment = _rule_union(ADJUSTMENTS, "adjustments")


# --- the schedule --------------------------------------------------------------------


def _version(value: Any) -> int:
    if value != FORMAT_VERSION:
        raise fault(
            f" is {value!r}, but this weir reads version {FORMAT_VERSION}; "
            "upgrade weir or store the schedule again."
        )
    return FORMAT_VERSION


class ScheduleWire(Wire):
    version: Annotated[int, PlainValidator(_version)] = FORMAT_VERSION
    clocks: Annotated[list[AnyClock], _a_list("a list of clocks", required=True)] = None  # type: ignore[assignment]
    filters: Annotated[list[AnyFilter], _a_list("a list")] = None  # type: ignore[assignment,valid-type]
    or_filters: Annotated[list[AnyFilter], _a_list("a list")] = None  # type: ignore[assignment,valid-type]
    not_filters: Annotated[list[AnyFilter], _a_list("a list")] = None  # type: ignore[assignment,valid-type]
    adjustments: Annotated[list[AnyAdjustment], _a_list("a list")] = None  # type: ignore[assignment,valid-type]

    @model_validator(mode="before")
    @classmethod
    def _a_schedule(cls, data: Any) -> Any:
        if isinstance(data, Schedule):  # being written
            return {"clocks": data.clocks, **{key: getattr(data, key) for key in RULE_LISTS}}
        if not isinstance(data, dict):
            raise fault(
                f" must be a dict (the output of Schedule.serialize()), got {type(data).__name__}."
            )
        return data

    def build(self) -> Schedule:
        parts: dict[str, Any] = {"clocks": [_build_clock(c, i) for i, c in enumerate(self.clocks)]}
        for key in RULE_LISTS:
            module = adjustments if key == "adjustments" else filters
            rules = getattr(self, key)
            parts[key] = [_build_rule(r, module, f"{key}[{i}]") for i, r in enumerate(rules)]
        return Schedule(**parts)


def _build_clock(wire: Any, index: int) -> Clock:
    field = f"clocks[{index}]"
    try:
        return wire.build(field)  # type: ignore[no-any-return]
    except (TypeError, OverflowError, ScheduleError) as exc:
        if isinstance(exc, ScheduleError) and str(exc).startswith("Schedule "):
            raise  # already names where in the schedule it is
        # A clock's own check names its argument (e.g. "cron"); place it in this clock.
        inner = getattr(exc, "field", None)
        where = f"{field}.{inner}" if inner else field
        raise ScheduleError(f"Schedule {field}: {exc}", field=where) from exc


def _build_rule(wire: RuleWire, module: Any, field: str) -> Rule:
    try:
        return wire.build(module)
    except (TypeError, ScheduleError) as exc:
        raise ScheduleError(f"Schedule {field}: {exc}", field=f"{field}.args") from exc


# --- entry points --------------------------------------------------------------------


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """``schedule`` as a JSON-able dict; raises ScheduleError naming what cannot be stored."""
    return _validate(schedule).model_dump(mode="json")


def schedule_from_dict(data: Any) -> Schedule:
    """Rebuild a Schedule from ``schedule_to_dict``'s output."""
    return _validate(data).build()


def _validate(data: Any) -> ScheduleWire:
    try:
        return ScheduleWire.model_validate(data)
    except ValidationError as exc:
        raise _schedule_error(exc) from None


# Union members' tags in a location (("clocks", 0, "CronClock", "cron")) are pydantic's
# bookkeeping, not keys of the data: a tag follows a list index or the "rrule" key.
_TAGS = frozenset({*_CLOCK_NAMES, *RULE_KINDS, *FILTERS, *ADJUSTMENTS})


def _schedule_error(exc: ValidationError) -> ScheduleError:
    """The first refusal as a ScheduleError whose ``field`` is a path into the data."""
    error = exc.errors(include_url=False)[0]
    loc = error["loc"]
    parts = [
        part
        for i, part in enumerate(loc)
        if not (part in _TAGS and i and (isinstance(loc[i - 1], int) or loc[i - 1] == "rrule"))
    ]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    ctx = error.get("ctx") or {}
    if error["type"] != "schedule":  # not one of ours: pydantic's own words
        return ScheduleError(f"Schedule {where or 'data'}: {error['msg']}", field=where)
    field = ".".join(filter(None, (where, ctx["sub"])))
    return ScheduleError(f"Schedule {where or 'data'}{ctx['rest']}", field=field)


def field_path(field: str) -> tuple[str | int, ...]:
    """A ScheduleError's ``field`` as path parts: ``clocks[0].cron`` -> ("clocks", 0, "cron")."""
    return tuple(
        int(part) if part.isdigit() else part for part in re.split(r"[.\[\]]+", field) if part
    )
