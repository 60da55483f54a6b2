"""storage_from_dict: every kind round-trips; a bad dict names the field at fault."""

from __future__ import annotations

import json

import pytest

from weir.exceptions import StorageError
from weir.storage import Local, Module, Remote, Storage, storage_from_dict


@pytest.mark.parametrize(
    "storage",
    [
        Local(),
        Local(path="/srv/flows/etl.py"),
        Local(stored_as_script=False, directory="/srv/pickles"),
        Module("my_pkg.flows"),
        Remote("memory://flows/"),
        Remote("s3://bucket/flows/", key="etl.py", storage_options={"anon": True}),
    ],
    ids=repr,
)
def test_every_kind_round_trips_through_json(storage: Storage):
    script_mode = isinstance(storage, Local) and storage.stored_as_script
    storage.flows["etl"] = "/srv/flows/etl.py" if script_mode else "etl/abc.py"
    data = json.loads(json.dumps(storage.serialize()))
    again = storage_from_dict(data)
    assert type(again) is type(storage)
    assert again.serialize() == storage.serialize()
    assert data["type"] == type(storage).__name__


def test_a_registration_id_is_accepted():
    data = {**Module("m").serialize(), "registration_id": "abc"}
    assert isinstance(storage_from_dict(data), Module)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("Local", "must be a JSON object"),
        ({}, "field 'type' is None"),
        ({"type": "Kube"}, "field 'type' is 'Kube'; weir knows Docker, Local, Module, Remote"),
        ({"type": "Remote"}, "Remote storage's field 'url' is missing"),
        ({"type": "Remote", "url": 3}, "field 'url' must be a non-empty string"),
        ({"type": "Module"}, "Module storage's field 'module' is missing"),
        ({"type": "Module", "module": "a/b"}, "dotted module name"),
        ({"type": "Local", "stored_as_script": "yes"}, "field 'stored_as_script' must be true"),
        ({"type": "Local", "stored_as_script": False}, "field 'directory' is missing"),
        ({"type": "Local", "flows": ["etl"]}, "field 'flows' must be an object"),
        ({"type": "Local", "flows": {"etl": 1}}, "field 'flows' maps flow 'etl' to 1"),
        ({"type": "Local", "pth": "x"}, "unknown field 'pth'"),
        ({"type": "Local", "path": "etl.py"}, "field 'path' holds 'etl.py', which is not an abs"),
        ({"type": "Local", "flows": {"etl": "a/etl.py"}}, "field 'flows' holds 'a/etl.py'"),
        (
            {"type": "Local", "stored_as_script": False, "directory": "flows"},
            "field 'directory' holds 'flows'",
        ),
        ({"type": "Remote", "url": "memory://x", "storage_options": 1}, "'storage_options'"),
        ({"type": "Remote", "url": "memory://x", "key": "/abs"}, "would leave its base"),
    ],
)
def test_a_bad_dict_names_the_field(data, message):
    with pytest.raises(StorageError, match=message.replace("(", r"\(")):
        storage_from_dict(data)
