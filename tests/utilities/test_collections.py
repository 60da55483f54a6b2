"""weir.utilities.collections: Prefect 1's DotDict and dict helpers."""

from __future__ import annotations

import pickle

import pytest

from weir.utilities.collections import DotDict, as_nested_dict, flatten_seq, merge_dicts


def test_keys_read_and_write_as_attributes_and_items() -> None:
    d = DotDict({"a": 1}, b=2)
    d.c = 3
    assert (d.a, d["b"], d.c, len(d)) == (1, 2, 3, 3)
    assert dict(d) == {"a": 1, "b": 2, "c": 3}
    assert d.get("zz", 5) == 5
    with pytest.raises(AttributeError, match="no key 'zz'"):
        _ = d.zz
    del d["a"]
    assert "a" not in d and repr(d) == "<DotDict: 'b', 'c'>"
    assert pickle.loads(pickle.dumps(d)) == d
    assert DotDict(items=4)["items"] == 4  # a key named like a method is still a key


def test_copy_is_shallow_and_of_the_same_class() -> None:
    class Config(DotDict):
        pass

    original = Config(inner={"x": 1})
    copied = original.copy()
    copied.extra = 1
    assert type(copied) is Config and "extra" not in original
    assert copied.inner is original.inner


def test_nested_dicts_convert_both_ways() -> None:
    nested = as_nested_dict({"a": {"b": [{"c": 1}]}})
    assert isinstance(nested, DotDict) and nested.a.b[0].c == 1
    assert nested.to_dict() == {"a": {"b": [{"c": 1}]}}
    assert type(nested.to_dict()["a"]) is dict


def test_merge_dicts_merges_nested_dicts_and_leaves_the_first_alone() -> None:
    defaults = {"db": {"host": "localhost", "port": 5432}, "debug": False}
    merged = merge_dicts(defaults, {"db": {"host": "db.internal"}, "debug": True})
    assert merged == {"db": {"host": "db.internal", "port": 5432}, "debug": True}
    assert defaults["db"]["host"] == "localhost"


def test_flatten_seq() -> None:
    assert list(flatten_seq([1, [2, (3, [4])], 5])) == [1, 2, 3, 4, 5]
