from __future__ import annotations

import json
import uuid

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
