"""Recurrence rules (dateutil's ``rrule`` and ``rruleset``) as plain data.

``RRuleClock`` compares clocks and ``serialize`` stores them through these helpers.
A rule is written as its RFC 5545 text (``str(rule)``), which dateutil reads back
with ``rrulestr``; that text drops the zone of ``dtstart`` and ``until``, so both
are kept beside it and put back on reading. An ``rruleset`` is its lists of
rules, exclusion rules, dates and exclusion dates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dateutil import rrule

RRuleBase = rrule.rrulebase


def rrule_parts(obj: RRuleBase) -> dict[str, Any]:
    """The pieces that define ``obj``: for an rrule its text and dates, for a set its members."""
    if isinstance(obj, rrule.rruleset):
        return {
            "kind": "rruleset",
            "rrules": [rrule_parts(r) for r in obj._rrule],
            "exrules": [rrule_parts(r) for r in obj._exrule],
            "rdates": list(obj._rdate),
            "exdates": list(obj._exdate),
        }
    assert isinstance(obj, rrule.rrule)
    return {"kind": "rrule", "rule": str(obj), "dtstart": obj._dtstart, "until": obj._until}


def rrule_from_text(text: str, dtstart: datetime, until: datetime | None) -> rrule.rrule:
    """An rrule from its RFC 5545 text, with ``dtstart`` and ``until`` (zones included) put back."""
    parsed = rrule.rrulestr(text)
    if not isinstance(parsed, rrule.rrule):
        raise ValueError("the text holds more than one rule; write a set as kind 'rruleset'")
    dates: dict[str, datetime] = {"dtstart": dtstart}
    if until is not None:
        dates["until"] = until
    return parsed.replace(**dates)


def rruleset_from_parts(
    rrules: list[rrule.rrule],
    exrules: list[rrule.rrule],
    rdates: list[datetime],
    exdates: list[datetime],
) -> rrule.rruleset:
    """An rruleset made of these rules, exclusion rules, dates and exclusion dates."""
    made = rrule.rruleset()
    for r in rrules:
        made.rrule(r)
    for r in exrules:
        made.exrule(r)
    for dt in rdates:
        made.rdate(dt)
    for dt in exdates:
        made.exdate(dt)
    return made
