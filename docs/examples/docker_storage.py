"""Docker storage: the image a registration would build for a flow (no engine needed here).

``flow.register()`` builds this image through the Docker API (and pushes it when
``registry_url`` is set); this example only shows what goes into it.
"""

from __future__ import annotations

from pathlib import Path

from weir import Flow, task
from weir.storage import Docker


@task
def extract() -> list[int]:
    return [1, 2, 3]


storage = Docker(
    base_image="registry.example/python-weir:3.11",  # must have Python and weir in it
    image_name="etl-flows",
    python_dependencies=["pandas==2.2.2"],
    files={str(Path(__file__).resolve()): "/etc/etl/flow_copy.py"},
    registry_url="registry.example:5000",  # optional: push there after the build
)
with Flow("etl", storage=storage) as flow:
    extract()

storage.add_flow(flow, source=__file__)
print(storage.repository())
print(storage.dockerfile_text())
