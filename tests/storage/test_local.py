"""Local storage: a script by absolute path, or a pickle under a directory."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from weir import Flow
from weir.exceptions import StorageError
from weir.storage import Local, storage_from_dict
from weir.storage.scripts import flows_in_script
from weir.storage.source import defining_file

from .helpers import write_script


def test_a_script_storage_records_the_absolute_path_and_loads_by_name(script, monkeypatch):
    monkeypatch.chdir(script.parent)
    storage = Local(path="etl_flows.py")
    assert storage.add_flow(flows_in_script(script)["etl"]) == str(script)
    assert storage.build() is storage
    assert storage.serialize() == {
        "type": "Local",
        "flows": {"etl": str(script)},
        "path": str(script),
        "stored_as_script": True,
    }
    flow = storage.get_flow("etl")
    assert isinstance(flow, Flow) and flow.name == "etl"
    assert flow.run().is_successful()


def test_without_a_path_the_source_given_is_used(script):
    storage = Local()
    storage.add_flow(flows_in_script(script)["report"], source=script)
    assert storage.flows == {"report": str(script)}
    assert storage.get_flow("report").name == "report"


def test_an_unknown_flow_name_lists_the_flows_the_script_has(script):
    storage = Local(path=script)
    with pytest.raises(StorageError, match=r"no flow named 'nope'.*'etl', 'report'"):
        storage.get_flow("nope")
    storage = Local()
    storage.add_flow(flows_in_script(script)["etl"], source=script)
    with pytest.raises(StorageError, match=r"no flow named 'nope'.*'etl', 'report'"):
        storage.get_flow("nope")


def test_a_script_that_went_away_is_reported_at_build_and_at_run_time(tmp_path):
    script = write_script(tmp_path / "gone.py")
    storage = Local(path=script)
    storage.add_flow(flows_in_script(script)["etl"])
    script.unlink()
    with pytest.raises(StorageError, match=r"gone.py, which does not exist"):
        storage.build()
    with pytest.raises(StorageError, match=r"no flow script at .*gone.py"):
        storage.get_flow("etl")


def test_a_flow_in_an_imported_module_is_found_in_that_module(tmp_path, monkeypatch):
    module_file = write_script(tmp_path / "pkg_flows_local.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("pkg_flows_local")
    try:
        assert defining_file(module.flow) == module_file.resolve()
        storage = Local()
        assert storage.add_flow(module.report) == str(module_file.resolve())
    finally:
        sys.modules.pop("pkg_flows_local", None)


def test_a_flow_held_by_no_module_is_placed_in_the_calling_file():
    with Flow("built-here") as flow:
        pass
    assert defining_file(flow) == Path(__file__).resolve()


def test_a_script_storage_loads_the_same_flow_in_a_fresh_process(script):
    storage = Local()
    for flow in flows_in_script(script).values():
        storage.add_flow(flow, source=script)
    data = json.dumps(storage.build().serialize())
    program = (
        "import json, sys\n"
        "from weir.storage import storage_from_dict\n"
        "storage = storage_from_dict(json.loads(sys.argv[1]))\n"
        "print(json.dumps({n: storage.get_flow(n).serialize() for n in ('etl', 'report')}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program, data], capture_output=True, text=True, check=True
    )
    here = {n: f.serialize() for n, f in flows_in_script(script).items()}
    assert json.loads(out.stdout) == here


def test_a_pickled_flow_is_written_under_its_directory_and_loaded_back(script, tmp_path):
    directory = tmp_path / "pickles"
    storage = Local(stored_as_script=False, directory=directory)
    flow = flows_in_script(script)["etl"]
    location = storage.add_flow(flow)
    assert not Path(location).exists()  # written by build(), not before
    storage.build()
    assert Path(location).is_file() and Path(location).parent.parent == directory
    loaded = storage_from_dict(json.loads(json.dumps(storage.serialize()))).get_flow("etl")
    assert loaded.serialize() == flow.serialize()
    assert loaded.run(parameters={"n": 5}).is_successful()


def test_a_pickle_key_that_leaves_its_directory_is_refused(tmp_path):
    data = {
        "type": "Local",
        "stored_as_script": False,
        "directory": str(tmp_path),
        "flows": {"etl": "../../etc/passwd"},
    }
    storage = storage_from_dict(data)
    with pytest.raises(StorageError, match="would leave its base"):
        storage.get_flow("etl")


def test_a_missing_pickle_says_where_it_looked(tmp_path):
    storage = Local(stored_as_script=False, directory=tmp_path)
    storage.flows["etl"] = "etl/0000.flow"
    with pytest.raises(StorageError, match=r"Cannot read the pickled flow 'etl' at .*0000.flow"):
        storage.get_flow("etl")
    with pytest.raises(StorageError, match="no flow named 'other'"):
        storage.get_flow("other")


def test_a_flow_loaded_from_a_script_knows_its_script(script):
    flows = flows_in_script(script)
    assert defining_file(flows["etl"]) == script.resolve()
    assert Local().add_flow(flows["report"]) == str(script.resolve())


def test_pickles_go_under_weir_home_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("WEIR_HOME", str(tmp_path))
    assert Local(stored_as_script=False).directory == str(tmp_path / "flows")
