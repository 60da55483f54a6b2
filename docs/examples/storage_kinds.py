"""The kinds of storage, and what each records for the server (its `serialize()`)."""

from __future__ import annotations

from pathlib import Path

from weir import Flow, task
from weir.storage import Local, Module, Remote


@task
def extract() -> list[int]:
    return [1, 2, 3]


script = Path(__file__).resolve()
kinds = {
    "Local": Local(path=script),  # this script, by absolute path (the default)
    "Module": Module("docs_examples_flows"),  # an importable module (name it yours)
    "Remote": Remote("memory://flows/"),  # a copy of the script at any fsspec URL
}
for name, storage in kinds.items():
    with Flow("etl", storage=storage) as flow:
        extract()
    storage.add_flow(flow, source=script)
    data = storage.serialize()
    print(name, sorted(data), data["type"])
