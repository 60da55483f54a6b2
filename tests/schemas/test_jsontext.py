from __future__ import annotations

import json
import uuid

import pytest

from weir.engine.state import StateType
from weir.schemas import jsontext


def test_encodes_what_the_api_carries_compactly():
    run = uuid.UUID(int=7)
    value = {"id": run, "type": StateType.RUNNING, "ts": 1796104340.1319158, "n": [1, None, True]}
    text = jsontext.dumps(value)
    assert json.loads(text) == {
        "id": str(run),
        "type": "Running",
        "ts": 1796104340.1319158,
        "n": [1, None, True],
    }
    assert b" " not in text


def test_values_the_fast_encoder_refuses_encode_as_the_standard_library_would():
    # Integers beyond 64 bits and lone surrogates: orjson refuses them.
    assert json.loads(jsontext.dumps({"big": 2**70})) == {"big": 2**70}
    assert json.loads(jsontext.dumps({"id": uuid.UUID(int=1), "big": 2**70}))["id"] == str(
        uuid.UUID(int=1)
    )
    assert json.loads(jsontext.dumps("a\ud800")) == "a\ud800"
    assert json.loads(jsontext.dumps({1: "x"})) == {"1": "x"}


def test_dumps_text_is_a_str_for_database_drivers():
    assert jsontext.dumps_text({"a": 1}) == '{"a":1}'


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, -3e-7, true, null], "b": "x\\u00e9\\n", "c": {}}',
        '{"big": 1180591620717411303424, "neg": -9223372036854775809}',
        '{"u64": 18446744073709551615, "i64": -9223372036854775808}',
        "[1.7976931348623157e308, 5e-324, 0.1, 1e400]",
        "[NaN, Infinity, -Infinity]",
        '"a\\ud800"',
        '"\\ud83d\\ude00 and \\u0000"',
        '{"a": 1, "a": 2}',
        '"1234567890123456789012345 digits in a string"',
    ],
)
def test_loads_reads_as_the_standard_library_does(text):
    for given in (text, text.encode()):
        value = jsontext.loads(given)
        assert repr(value) == repr(json.loads(text))
        assert type(value) is type(json.loads(text))


def test_loads_refuses_what_the_standard_library_refuses():
    for bad in ("{", "[1,]", "", "{'a': 1}"):
        with pytest.raises(ValueError):
            jsontext.loads(bad)
