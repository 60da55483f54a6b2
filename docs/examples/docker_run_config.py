"""A flow that the Docker agent runs in an image of its choosing, with extra variables."""

from __future__ import annotations

from weir import Flow, task


@task
def extract() -> list[int]:
    return [1, 2, 3]


with Flow(
    "etl",
    run_config={"image": "registry.example/etl:1.4", "env": {"MODE": "prod"}},
) as flow:
    extract()

print(flow.run_config)
