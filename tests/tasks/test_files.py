"""weir.tasks.files: Prefect 1's file tasks on a real file system."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from weir import Flow
from weir.engine.state import Failed
from weir.tasks.files import Copy, Glob, Move, Remove, Unzip, Zip


def run_one(task, **kwargs):
    with Flow("files") as flow:
        out = task(**kwargs)
    return flow.run().result[out]


def test_copy_move_remove_and_glob(tmp_path: Path) -> None:
    source = tmp_path / "in" / "data.csv"
    source.parent.mkdir()
    source.write_text("a,b\n")
    copied = run_one(Copy(source_path=source), target_path=tmp_path / "copy.csv").result
    assert copied == tmp_path / "copy.csv" and copied.read_text() == "a,b\n"
    tree = run_one(Copy(), source_path=tmp_path / "in", target_path=tmp_path / "tree").result
    assert (tree / "data.csv").exists()
    moved = run_one(Move(source_path=copied, target_path=tmp_path / "in")).result
    assert moved == tmp_path / "in" / "copy.csv" and not copied.exists()
    found = run_one(Glob(path=tmp_path, pattern="**/*.csv")).result
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "in/copy.csv",
        "in/data.csv",
        "tree/data.csv",
    ]
    assert run_one(Remove(path=moved)).is_successful() and not moved.exists()


def test_missing_paths_and_non_empty_directories_fail_naming_them(tmp_path: Path) -> None:
    missing = run_one(Copy(name="fetch", source_path=tmp_path / "nope", target_path=tmp_path))
    assert isinstance(missing, Failed)
    assert "Task 'fetch': source_path" in missing.message and "does not exist" in missing.message
    unnamed = run_one(Move(source_path=tmp_path))
    assert isinstance(unnamed, Failed) and "got no target_path" in unnamed.message
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    full = run_one(Remove(path=tmp_path / "full"))
    assert isinstance(full, Failed) and "is not empty" in full.message


def test_zip_then_unzip_a_directory_and_a_file(tmp_path: Path) -> None:
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "part.txt").write_text("part")
    (tmp_path / "notes.txt").write_text("notes")
    archive = run_one(
        Zip(compression_method="lzma"),
        source_path=[tmp_path / "report", tmp_path / "notes.txt"],
        zip_path=tmp_path / "out.zip",
    ).result
    assert sorted(zipfile.ZipFile(archive).namelist()) == [
        "notes.txt",
        "report/",
        "report/part.txt",
    ]
    extracted = run_one(Unzip(zip_path=archive, extract_dir=tmp_path / "x")).result
    assert (extracted / "report" / "part.txt").read_text() == "part"
    not_zip = run_one(Unzip(zip_path=tmp_path / "notes.txt"))
    assert isinstance(not_zip, Failed) and "is not a zip file" in not_zip.message
    with pytest.raises(ValueError, match="compression_method 'rar' is not one of"):
        Zip(compression_method="rar")
