"""Prefect 1's resource-manager flow (from its docs), ported by changing the imports."""

from __future__ import annotations

import os
import shutil
import tempfile

from weir import Flow, resource_manager, task

MADE: list[str] = []


@resource_manager
class TemporaryDirectory:
    def __init__(self, prefix="tmp"):
        self.prefix = prefix

    def setup(self):
        path = tempfile.mkdtemp(prefix=self.prefix)
        MADE.append(path)
        return path

    def cleanup(self, path):
        shutil.rmtree(path)


@task
def write_files(path, names):
    for name in names:
        with open(os.path.join(path, name), "w") as f:
            f.write(name)
    return sorted(os.listdir(path))


@task
def count_files(listing):
    return len(listing)


def test_temporary_directory_flow():
    with Flow("example") as flow:
        with TemporaryDirectory(prefix="example-") as tmpdir:
            listing = write_files(tmpdir, ["a.txt", "b.txt"])
            total = count_files(listing)

    state = flow.run()
    assert state.is_successful()
    assert state.result[listing].result == ["a.txt", "b.txt"]
    assert state.result[total].result == 2
    (path,) = MADE
    assert os.path.basename(path).startswith("example-") and not os.path.exists(path)
