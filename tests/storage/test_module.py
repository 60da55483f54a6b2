"""Module storage: a flow found by name in an importable module."""

from __future__ import annotations

import sys

import pytest

from weir.exceptions import StorageError
from weir.storage import Module, storage_from_dict

from .helpers import write_script


@pytest.fixture
def module_name(tmp_path, monkeypatch):
    write_script(tmp_path / "weir_test_module_flows.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "weir_test_module_flows"
    sys.modules.pop("weir_test_module_flows", None)


def test_a_module_storage_builds_and_loads_each_flow_by_name(module_name):
    storage = Module(module_name)
    from weir.storage.scripts import flows_in_script

    flows = flows_in_script(sys.path[0] + f"/{module_name}.py")
    for flow in flows.values():
        assert storage.add_flow(flow) == module_name
    assert storage.build() is storage
    again = storage_from_dict(storage.serialize())
    assert again.serialize() == {
        "type": "Module",
        "flows": {"etl": module_name, "report": module_name},
        "module": module_name,
    }
    assert again.get_flow("etl").serialize() == flows["etl"].serialize()
    with pytest.raises(StorageError, match=r"no flow named 'nope' in the module .*'etl', 'report'"):
        again.get_flow("nope")


def test_a_module_that_cannot_be_imported_is_refused_at_build_and_run_time():
    storage = Module("weir_no_such_module.flows")
    with pytest.raises(StorageError, match="'weir_no_such_module.flows' cannot be imported"):
        storage.build()
    with pytest.raises(StorageError, match="Importing the module 'weir_no_such_module.flows'"):
        storage.get_flow("etl")


def test_a_module_whose_import_fails_says_why(tmp_path, monkeypatch):
    (tmp_path / "weir_test_broken_flows.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(StorageError, match="RuntimeError.*boom"):
        Module("weir_test_broken_flows").get_flow("etl")
    sys.modules.pop("weir_test_broken_flows", None)


@pytest.mark.parametrize("name", ["", "a/b", "../x", "a..b", "1abc", "a.b."])
def test_a_module_name_must_be_dotted_identifiers(name):
    with pytest.raises(StorageError, match="dotted module name"):
        Module(name)
