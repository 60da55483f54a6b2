"""Results over fsspec and the local disk: templates, atomic writes, reads, errors."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import fsspec
import pytest

from weir.engine.results import LocalResult, Result, results_home
from weir.engine.serializers import JSONSerializer, PickleSerializer, Serializer
from weir.exceptions import ResultError, SerializationError


@pytest.fixture
def mem_root():
    root = f"memory://weir-tests-{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    path = root[len("memory://") :]
    if fs.exists(path):
        fs.rm(path, recursive=True)


CONTEXT = {"flow_name": "etl", "task_name": "extract", "map_index": 3}


class TestResult:
    def test_defaults(self):
        r = Result()
        assert r.value is None and r.location is None
        assert r.serializer == PickleSerializer()

    def test_format_fills_a_template_and_leaves_the_original(self, mem_root):
        r = Result(location=mem_root + "/{flow_name}/{task_name}/{map_index}.bin")
        new = r.format(**CONTEXT)
        assert new.location == mem_root + "/etl/extract/3.bin"
        assert r.location.endswith("{map_index}.bin")
        assert new is not r

    def test_format_calls_a_callable_location(self, mem_root):
        r = Result(location=lambda **kw: f"{mem_root}/{kw['task_name']}-{kw['map_index']}")
        assert r.format(**CONTEXT).location == f"{mem_root}/extract-3"

    def test_missing_template_key_names_it_and_the_available_ones(self, mem_root):
        r = Result(location=mem_root + "/{flow_name}/{task_nmae}.bin")
        with pytest.raises(ResultError) as info:
            r.format(**CONTEXT)
        msg = str(info.value)
        assert "{task_nmae}" in msg
        assert "flow_name, map_index, task_name" in msg

    def test_callable_location_with_a_bad_signature_is_explained(self):
        r = Result(location=lambda: "x")
        with pytest.raises(ResultError, match=r"def location\(\*\*kwargs\)"):
            r.format(**CONTEXT)

    def test_default_location_is_a_fresh_uuid_name(self):
        a, b = Result().format().location, Result().format().location
        assert a != b
        assert uuid.UUID(a.split(".")[0])

    def test_write_and_read_round_trip_in_memory(self, mem_root):
        r = Result(location=mem_root + "/{task_name}.bin")
        written = r.write({"rows": [1, 2]}, **CONTEXT)
        assert written.value == {"rows": [1, 2]}
        assert written.location == mem_root + "/extract.bin"
        assert r.value is None  # the template result is unchanged
        back = Result().read(written.location)
        assert back.value == {"rows": [1, 2]}
        assert back.location == written.location

    def test_write_takes_a_context_key_named_value(self, mem_root):
        written = Result(location=mem_root + "/{value}.bin").write(5, value="v")
        assert written.location.endswith("/v.bin") and written.value == 5

    def test_exists_formats_the_location(self, mem_root):
        r = Result(location=mem_root + "/{task_name}.bin")
        template = mem_root + "/{task_name}.bin"
        assert not r.exists(template, **CONTEXT)
        r.write(1, **CONTEXT)
        assert r.exists(template, **CONTEXT)
        assert not r.exists(template, task_name="other")

    def test_exists_takes_a_concrete_location_as_it_is(self, mem_root):
        written = Result(location=mem_root + "/{name}.bin").write(1, name="{odd}")
        assert written.location == mem_root + "/{odd}.bin"
        assert Result().exists(written.location)

    def test_serializer_decides_the_bytes(self, mem_root):
        written = Result(location=mem_root + "/a.json", serializer=JSONSerializer()).write([1])
        fs, path = fsspec.core.url_to_fs(written.location)
        assert fs.cat_file(path) == b"[1]"

    def test_unserializable_value_fails_before_anything_is_written(self, mem_root):
        r = Result(location=mem_root + "/x.json", serializer=JSONSerializer())
        with pytest.raises(SerializationError, match="JSONSerializer.*'object'"):
            r.write(object())
        assert not r.exists(mem_root + "/x.json")

    def test_reading_a_missing_location_names_it(self, mem_root):
        with pytest.raises(ResultError, match="There is no result at .*nothing.bin"):
            Result().read(mem_root + "/nothing.bin")

    def test_file_urls_and_plain_paths_work(self, tmp_path):
        url = f"file://{tmp_path}/{{task_name}}.bin"
        written = Result(location=url).write("hi", **CONTEXT)
        assert (tmp_path / "extract.bin").exists()
        assert Result().read(written.location).value == "hi"
        assert Result().read(str(tmp_path / "extract.bin")).value == "hi"

    def test_unknown_protocol_is_a_clear_error(self):
        with pytest.raises(ResultError, match="No filesystem can handle"):
            Result(location="nosuchproto://x/y").write(1)

    def test_relative_location_defaults_to_the_results_home(self, tmp_path, monkeypatch):
        monkeypatch.setenv("WEIR_HOME", str(tmp_path))
        written = Result(location="a/b.bin").write(7)
        assert written.location == str(tmp_path / "results" / "a" / "b.bin")
        assert Result().read("a/b.bin").value == 7


class TestAtomicWrites:
    def test_no_temporary_files_are_left(self, tmp_path):
        r = LocalResult(tmp_path, location="x.bin")
        for i in range(3):
            r.write(i)
        assert sorted(os.listdir(tmp_path)) == ["x.bin"]

    def test_a_failed_write_removes_its_temporary_file(self, tmp_path):
        (tmp_path / "taken").mkdir()  # the target is a directory: the rename fails
        with pytest.raises(ResultError, match="could not be written"):
            LocalResult(tmp_path, location="taken").write(1)
        assert os.listdir(tmp_path) == ["taken"]

    def test_readers_see_the_old_or_the_new_value_never_a_part(self, tmp_path):
        old, new = b"a" * 2_000_000, b"b" * 2_000_000
        r = LocalResult(tmp_path, location="big.bin", serializer=_Raw())
        r.write(old)
        seen: set[bytes] = set()
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                value = r.read("big.bin").value
                seen.add(value[:1] + value[-1:] + str(len(value)).encode())

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for i in range(20):
                r.write(new if i % 2 == 0 else old)
        finally:
            stop.set()
            reader.join()
        assert seen
        assert seen <= {b"aa2000000", b"bb2000000"}


class _Raw(Serializer):
    def serialize(self, value):
        return value

    def deserialize(self, value):
        return value


class TestLocalResult:
    def test_default_dir_is_weir_home_results(self, tmp_path, monkeypatch):
        monkeypatch.setenv("WEIR_HOME", str(tmp_path / "home"))
        r = LocalResult()
        assert r.dir == str(tmp_path / "home" / "results")
        assert os.path.isdir(r.dir)
        assert results_home() == tmp_path / "home" / "results"

    def test_validate_dir_false_creates_nothing(self, tmp_path):
        LocalResult(tmp_path / "later", validate_dir=False)
        assert not (tmp_path / "later").exists()
        LocalResult(tmp_path / "now")
        assert (tmp_path / "now").is_dir()

    def test_dir_that_is_a_file_is_refused(self, tmp_path):
        (tmp_path / "f").write_text("x")
        with pytest.raises(ResultError, match="not a directory"):
            LocalResult(tmp_path / "f")

    def test_round_trip_with_a_template(self, tmp_path):
        r = LocalResult(tmp_path, location="{flow_name}/{task_name}/{map_index}.bin")
        written = r.write([1, 2, 3], **CONTEXT)
        assert written.location == str(tmp_path / "etl" / "extract" / "3.bin")
        assert LocalResult(tmp_path).read(written.location).value == [1, 2, 3]
        assert r.read("etl/extract/3.bin").value == [1, 2, 3]
        assert r.exists("{flow_name}/{task_name}/{map_index}.bin", **CONTEXT)
        assert not r.exists(
            "{flow_name}/{task_name}/{map_index}.bin", **{**CONTEXT, "map_index": 4}
        )

    def test_default_location_is_inside_dir(self, tmp_path):
        written = LocalResult(tmp_path).write("v")
        assert os.path.dirname(written.location) == str(tmp_path)

    @pytest.mark.parametrize("location", ["../escape.bin", "a/../../escape.bin", "/etc/x.bin"])
    def test_location_may_not_escape_dir(self, tmp_path, location):
        r = LocalResult(tmp_path / "results", location=location)
        with pytest.raises(ResultError, match="outside the result directory"):
            r.write(1)
        assert not (tmp_path / "escape.bin").exists()

    def test_template_values_may_not_escape_dir(self, tmp_path):
        r = LocalResult(tmp_path / "results", location="{name}.bin")
        with pytest.raises(ResultError, match="outside"):
            r.write(1, name="../../pwned")
        with pytest.raises(ResultError, match="outside"):
            r.exists("{name}.bin", name="../x")

    def test_an_absolute_stored_location_elsewhere_can_be_read(self, tmp_path):
        written = LocalResult(tmp_path / "a").write("from a")
        assert LocalResult(tmp_path / "b").read(written.location).value == "from a"

    def test_other_protocols_are_refused(self, tmp_path):
        with pytest.raises(ResultError, match="local disk"):
            LocalResult(tmp_path, location="memory://x").write(1)


def test_the_concept_page_example_prints_what_it_says(tmp_path, monkeypatch, capsys):
    # The page includes docs/examples/results_basics.py and shows its .out file.
    root = Path(__file__).parents[2] / "docs"
    assert '--8<-- "examples/results_basics.py"' in (root / "concepts" / "results.md").read_text()
    example = root / "examples" / "results_basics.py"
    monkeypatch.setenv("WEIR_HOME", str(tmp_path))
    exec(compile(example.read_text(), str(example), "exec"), {"__name__": "__main__"})
    expected = (root / "examples" / "results_basics.out").read_text().splitlines()
    assert capsys.readouterr().out.splitlines() == expected
