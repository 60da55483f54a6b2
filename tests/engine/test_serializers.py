"""Serializers: round trips, equality, and errors that name the type and a way out."""

from __future__ import annotations

import datetime as dt
import importlib.util
import threading

import cloudpickle
import pytest

from weir.engine.serializers import (
    DateTimeSerializer,
    JSONSerializer,
    PandasSerializer,
    PickleSerializer,
    Serializer,
)
from weir.exceptions import SerializationError, WeirError


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def test_base_serializer_methods_are_abstract():
    with pytest.raises(NotImplementedError):
        Serializer().serialize(1)
    with pytest.raises(NotImplementedError):
        Serializer().deserialize(b"1")


@pytest.mark.parametrize("value", [1, "text", [1, {"a": (2, 3)}], {1, 2}, None, Point(1, 2)])
def test_pickle_round_trip(value):
    s = PickleSerializer()
    data = s.serialize(value)
    assert isinstance(data, bytes)
    assert s.deserialize(data) == value


@pytest.mark.parametrize("value", [0, -7, 10**40, 2.5, float("inf"), "", "ü", b"\x00", True, None])
def test_plain_values_pickle_to_the_bytes_cloudpickle_writes(value):
    # The fast path for plain values must not change what lands on disk or in a state.
    assert PickleSerializer().serialize(value) == cloudpickle.dumps(value)


def test_pickle_handles_closures_and_lambdas():
    k = 10
    s = PickleSerializer()
    f = s.deserialize(s.serialize(lambda x: x + k))
    assert f(1) == 11


def test_pickle_refuses_a_lock_naming_type_and_serializer():
    with pytest.raises(SerializationError) as info:
        PickleSerializer().serialize({"lock": threading.Lock()})
    msg = str(info.value)
    assert "PickleSerializer" in msg
    assert "'dict'" in msg
    assert "JSONSerializer" in msg  # suggests another serializer
    assert isinstance(info.value, WeirError)


def test_pickle_refuses_a_generator():
    with pytest.raises(SerializationError, match="'generator'"):
        PickleSerializer().serialize(i for i in range(3))


def test_pickle_deserialize_garbage_is_a_clear_error():
    with pytest.raises(SerializationError, match="PickleSerializer could not deserialize 5 bytes"):
        PickleSerializer().deserialize(b"hello")


@pytest.mark.parametrize("value", [1, 1.5, "t", [1, "a"], {"a": [None, True]}, None])
def test_json_round_trip(value):
    s = JSONSerializer()
    assert s.deserialize(s.serialize(value)) == value


def test_json_output_is_readable_json():
    assert JSONSerializer().serialize({"a": 1}) == b'{"a": 1}'


def test_json_refuses_an_object_and_suggests_pickle():
    with pytest.raises(SerializationError) as info:
        JSONSerializer().serialize(Point(1, 2))
    msg = str(info.value)
    assert "JSONSerializer" in msg
    assert "test_serializers.Point" in msg
    assert "PickleSerializer" in msg
    with pytest.raises(TypeError):  # what Prefect 1's (json.dumps) raised
        JSONSerializer().serialize(Point(1, 2))


def test_json_deserialize_garbage_is_a_clear_error():
    with pytest.raises(SerializationError, match="JSONSerializer could not deserialize"):
        JSONSerializer().deserialize(b"\xff{not json")


def test_datetime_round_trip_keeps_the_timezone():
    s = DateTimeSerializer()
    value = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    data = s.serialize(value)
    assert data == b"2024-01-02T03:04:05+02:00"
    assert s.deserialize(data) == value


def test_datetime_refuses_other_values():
    with pytest.raises(SerializationError, match="DateTimeSerializer.*'str'"):
        DateTimeSerializer().serialize("2024-01-01")


def test_serializers_compare_by_class_and_settings():
    assert PickleSerializer() == PickleSerializer()
    assert PickleSerializer() != JSONSerializer()


@pytest.mark.skipif(importlib.util.find_spec("pandas") is not None, reason="pandas is installed")
def test_pandas_serializer_without_pandas_fails_at_construction():
    with pytest.raises(ImportError, match="PandasSerializer needs pandas.*pip install pandas"):
        PandasSerializer("csv")


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="pandas is not installed")
def test_pandas_csv_round_trip():
    import pandas as pd

    s = PandasSerializer("csv", serialize_kwargs={"index": False})
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert s.deserialize(s.serialize(df)).equals(df)
    with pytest.raises(SerializationError, match="not a pandas.DataFrame"):
        s.serialize([1, 2])


@pytest.mark.parametrize("fmt", ["bz2", "gzip", "lzma", "zlib"])
def test_compressed_serializer_round_trips_smaller(fmt):
    from weir.engine.serializers import CompressedSerializer

    value = {"rows": ["same text"] * 1000}
    serializer = CompressedSerializer(JSONSerializer(), format=fmt)
    data = serializer.serialize(value)
    assert len(data) < len(JSONSerializer().serialize(value)) / 10
    assert serializer.deserialize(data) == value
    assert serializer == CompressedSerializer(JSONSerializer(), format=fmt)


def test_compressed_serializer_takes_functions_and_refuses_bad_setups():
    import zlib

    from weir.engine.results import LocalResult
    from weir.engine.serializers import CompressedSerializer

    custom = CompressedSerializer(
        PickleSerializer(),
        compress=zlib.compress,
        decompress=zlib.decompress,
        compress_kwargs={"level": 9},
    )
    assert custom.deserialize(custom.serialize([1, 2])) == [1, 2]
    with pytest.raises(SerializationError, match="could not deserialize"):
        custom.deserialize(b"not zlib")
    with pytest.raises(ValueError, match="not both"):
        CompressedSerializer(PickleSerializer(), format="zlib", compress=zlib.compress)
    with pytest.raises(ValueError, match="'rar' is not one of"):
        CompressedSerializer(PickleSerializer(), format="rar")
    with pytest.raises(ValueError, match="needs format="):
        CompressedSerializer(PickleSerializer(), compress=zlib.compress)
    assert LocalResult(serializer=custom).serializer is custom
