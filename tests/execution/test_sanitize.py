"""Cleaning text the API would refuse: lone surrogates escaped, long strings cut."""

from __future__ import annotations

import pytest

from weir.execution.sanitize import LOG_LIMITS, STATE_LIMITS, TRACE_LIMITS, clean, clean_text


def test_valid_text_is_left_as_it_is() -> None:
    text = "plain, accented é and emoji 😀"
    assert clean_text(text) is text
    assert clean_text(text, limit=len(text)) is text


def test_a_lone_surrogate_becomes_its_escape_as_text() -> None:
    assert clean_text("a\udcffb") == "a\\udcffb"


@pytest.mark.parametrize("length", [101, 1_000, 123_456])
def test_a_long_string_is_cut_to_its_limit_and_says_how_much_was_cut(length: int) -> None:
    text = "x" * length
    cut = clean_text(text, limit=100)
    assert len(cut) <= 100
    kept = cut.index(" …")
    assert cut == "x" * kept + f" … [{length - kept} characters cut]"


def test_a_limit_smaller_than_the_note_still_holds() -> None:
    assert len(clean_text("x" * 500, limit=10)) <= 10


def test_limits_apply_by_key_at_any_depth() -> None:
    item = {
        "message": "m" * 50,
        "states": [{"message": "s" * 50, "type": "Failed\udcff"}],
        "other": ("o" * 50, 3, None),
    }
    cleaned = clean(item, {"message": 20})
    assert len(cleaned["message"]) <= 20
    assert len(cleaned["states"][0]["message"]) <= 20
    assert cleaned["states"][0]["type"] == "Failed\\udcff"
    assert cleaned["other"] == ["o" * 50, 3, None]


def test_the_limits_are_the_api_s() -> None:
    assert LOG_LIMITS == {"message": 1_000_000, "name": 500}
    assert STATE_LIMITS == {"message": 100_000, "name": 500}
    assert TRACE_LIMITS == {"kind": 200}


def test_nul_becomes_the_replacement_character_in_values_and_keys() -> None:
    assert clean_text("a\x00b") == "a\ufffdb"
    assert clean({"k\x00": ["v\x00"]}, {}) == {"k\ufffd": ["v\ufffd"]}
