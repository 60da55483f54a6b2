"""A resource manager: a temporary directory set up before, and removed after, its tasks."""

from __future__ import annotations

import os
import shutil
import tempfile

from weir import Flow, resource_manager, task


@resource_manager
class TemporaryDirectory:
    def __init__(self, prefix="tmp"):
        self.prefix = prefix

    def setup(self):
        return tempfile.mkdtemp(prefix=self.prefix)

    def cleanup(self, path):
        shutil.rmtree(path)


@task
def write(path):
    with open(os.path.join(path, "report.txt"), "w") as f:
        f.write("hello")
    return sorted(os.listdir(path))


with Flow("uses a directory") as flow:
    with TemporaryDirectory(prefix="etl-") as path:  # path: the setup task's result
        files = write(path)

state = flow.run()
print(state.result[files].result)
for t in flow.sorted_tasks():
    print(f"{t.name:28} {type(state.result[t]).__name__}")
print("directory left behind:", os.path.exists(state.result[path].result))
