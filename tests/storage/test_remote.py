"""Remote storage over fsspec: memory:// and file:// (temporary directories)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import fsspec
import pytest

from weir.exceptions import StorageError
from weir.storage import Remote, storage_from_dict
from weir.storage.scripts import flows_in_script

from .helpers import write_script


@pytest.fixture
def memory_url():
    base = f"memory://weir-test-{uuid.uuid4().hex[:8]}"
    yield base
    fs = fsspec.filesystem("memory")
    if fs.exists(base):
        fs.rm(base, recursive=True)


def _add_all(storage: Remote, script) -> dict:
    flows = flows_in_script(script)
    for flow in flows.values():
        storage.add_flow(flow, source=script)
    return flows


def test_a_directory_url_stores_the_script_under_the_flow_name(script, memory_url):
    storage = Remote(memory_url + "/flows/")
    flows = _add_all(storage, script)
    storage.build()
    keys = storage.flows
    assert keys["etl"].startswith("etl/") and keys["report"].startswith("report/")
    assert keys["etl"].endswith(".py")
    fs = fsspec.filesystem("memory")
    assert fs.cat_file(f"{memory_url}/flows/{keys['etl']}") == script.read_bytes()
    loaded = storage_from_dict(json.loads(json.dumps(storage.serialize())))
    assert loaded.get_flow("etl").serialize() == flows["etl"].serialize()
    assert loaded.get_flow("report").run().is_successful()


def test_the_same_script_gets_the_same_key_and_a_changed_one_a_new_key(tmp_path, memory_url):
    script = write_script(tmp_path / "f.py")
    first = Remote(memory_url + "/")
    _add_all(first, script)
    same = Remote(memory_url + "/")
    _add_all(same, script)
    assert same.serialize() == first.serialize()
    write_script(script, step=2)
    changed = Remote(memory_url + "/")
    _add_all(changed, script)
    assert changed.flows["etl"] != first.flows["etl"]
    first.build()
    changed.build()
    # The older version keeps the code it was registered with.
    fs = fsspec.filesystem("memory")
    assert b"x + 1" in fs.cat_file(f"{memory_url}/{first.flows['etl']}")
    assert b"x + 2" in fs.cat_file(f"{memory_url}/{changed.flows['etl']}")
    assert first.get_flow("etl").name == changed.get_flow("etl").name == "etl"


def test_a_file_url_is_the_script_itself(script, memory_url):
    storage = Remote(memory_url + "/one/etl.py")
    _add_all(storage, script)
    storage.build()
    assert storage.flows == {"etl": "", "report": ""}
    loaded = storage_from_dict(storage.serialize())
    assert loaded.get_flow("report").name == "report"


def test_an_explicit_key_is_used_and_checked(script, memory_url):
    storage = Remote(memory_url, key="team/etl.py")
    _add_all(storage, script)
    storage.build()
    assert fsspec.filesystem("memory").exists(f"{memory_url}/team/etl.py")
    with pytest.raises(StorageError, match="would leave its base"):
        Remote(memory_url, key="../other/etl.py")


def test_two_scripts_cannot_share_one_file(tmp_path, memory_url):
    storage = Remote(memory_url + "/etl.py")
    a = write_script(tmp_path / "a.py")
    storage.add_flow(flows_in_script(a)["etl"], source=a)
    b = write_script(tmp_path / "b.py", step=3)
    with pytest.raises(StorageError, match="comes from another script"):
        storage.add_flow(flows_in_script(b)["report"], source=b)


def test_a_stored_key_that_escapes_is_refused_when_read_back(memory_url):
    data = {"type": "Remote", "url": memory_url + "/flows/", "flows": {"etl": "../secret.py"}}
    with pytest.raises(StorageError, match=r"'../secret.py' would leave its base"):
        storage_from_dict(data)


def test_missing_flows_and_missing_objects_are_clear(script, memory_url):
    storage = Remote(memory_url + "/")
    _add_all(storage, script)
    with pytest.raises(StorageError, match="no flow named 'nope'.*'etl', 'report'"):
        storage.get_flow("nope")
    # Never built: nothing was uploaded.
    with pytest.raises(StorageError, match=r"Cannot download the script of flow 'etl' from"):
        storage.get_flow("etl")


def test_file_urls_work_across_processes(script, tmp_path):
    url = (tmp_path / "bucket").as_uri() + "/"
    storage = Remote(url)
    flows = _add_all(storage, script)
    storage.build()
    assert (tmp_path / "bucket" / storage.flows["etl"]).is_file()
    program = (
        "import json, sys\n"
        "from weir.storage import storage_from_dict\n"
        "flow = storage_from_dict(json.loads(sys.argv[1])).get_flow('etl')\n"
        "print(json.dumps(flow.serialize()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", program, json.dumps(storage.serialize())],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == flows["etl"].serialize()
