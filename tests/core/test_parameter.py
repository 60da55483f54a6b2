"""weir.core.parameter.DateTimeParameter: values become aware datetimes, as in Prefect 1."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from weir import DateTimeParameter, Flow, task
from weir.core.parameter import DateTimeParameter as AtPrefectPath
from weir.engine.state import Failed
from weir.exceptions import ParameterError


@task
def echo(value):
    return value


def flow_with(param: DateTimeParameter) -> tuple[Flow, object]:
    with Flow("dates") as flow:
        out = echo(param)
    return flow, out


def value_of(param: DateTimeParameter, **parameters):
    flow, out = flow_with(param)
    state = flow.run(parameters=parameters)
    return state.result[out].result


def test_it_is_at_prefect_1s_path():
    assert AtPrefectPath is DateTimeParameter


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2024-01-31T09:00:00+01:00", datetime(2024, 1, 31, 8, tzinfo=timezone.utc)),
        ("2024-01-31T09:00:00Z", datetime(2024, 1, 31, 9, tzinfo=timezone.utc)),
        ("2024-01-31T09:00:00", datetime(2024, 1, 31, 9, tzinfo=timezone.utc)),  # naive: UTC
        ("2024-01-31", datetime(2024, 1, 31, tzinfo=timezone.utc)),  # a date: midnight UTC
        ("20240131T0930", datetime(2024, 1, 31, 9, 30, tzinfo=timezone.utc)),
    ],
)
def test_iso_strings_become_aware_datetimes(given, expected):
    value = value_of(DateTimeParameter("when"), when=given)
    assert value == expected
    assert value.tzinfo is not None and type(value) is datetime


def test_an_offset_is_kept_as_a_standard_fixed_offset():
    value = value_of(DateTimeParameter("when"), when="2024-01-31T09:00:00+05:30")
    assert value.isoformat() == "2024-01-31T09:00:00+05:30"
    assert value.tzinfo == timezone(timedelta(hours=5, minutes=30))


def test_datetimes_and_dates_pass_through_aware():
    berlin = datetime(2024, 7, 1, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    assert value_of(DateTimeParameter("when"), when=berlin) is berlin
    naive = value_of(DateTimeParameter("when"), when=datetime(2024, 7, 1, 12))
    assert naive == datetime(2024, 7, 1, 12, tzinfo=timezone.utc)
    assert value_of(DateTimeParameter("when"), when=date(2024, 7, 1)) == datetime(
        2024, 7, 1, tzinfo=timezone.utc
    )


def test_a_pendulum_value_passes_through():
    pendulum = pytest.importorskip("pendulum")
    given = pendulum.datetime(2024, 7, 1, 12, tz="Europe/Berlin")
    assert value_of(DateTimeParameter("when"), when=given) == given


def test_the_default_is_parsed_too():
    assert value_of(DateTimeParameter("when", default="2024-02-29")) == datetime(
        2024, 2, 29, tzinfo=timezone.utc
    )


def test_required_unless_a_default_or_required_false():
    assert DateTimeParameter("when").required
    assert not DateTimeParameter("when", default="2024-01-01").required
    assert value_of(DateTimeParameter("when", required=False)) is None
    flow, _ = flow_with(DateTimeParameter("when"))
    with pytest.raises(ParameterError, match="required parameter when"):
        flow.run()


def test_a_bad_string_fails_the_parameter_with_its_name():
    param = DateTimeParameter("when")
    flow, out = flow_with(param)
    state = flow.run(parameters={"when": "next tuesday"})
    assert not state.is_successful()
    assert isinstance(state.result[param], Failed)
    assert (
        "Parameter 'when' got 'next tuesday', which is not an ISO 8601"
        in state.result[param].message
    )


def test_it_is_a_parameter_to_the_server():
    flow, _ = flow_with(DateTimeParameter("when", default="2024-01-01"))
    assert flow.serialize()["parameters"] == [
        {"name": "when", "slug": "when", "default": "2024-01-01", "required": False}
    ]
