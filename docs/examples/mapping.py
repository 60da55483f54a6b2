"""Mapping: one child run per item, unmapped arguments, reduce, flatten, skipped children."""

from __future__ import annotations

from weir import Flow, flatten, signals, task, unmapped


@task
def pages() -> list[int]:
    return [1, 2, 3]


@task
def fetch(page: int, size: int) -> list[str]:
    return [f"p{page}-r{r}" for r in range(size)]


@task
def count(rows: list[str]) -> int:
    return len(rows)


@task
def shout(row: str) -> str:
    if row.endswith("r0"):
        raise signals.SKIP("first rows are headers")
    return row.upper()


@task(skip_on_upstream_skip=False)
def keep(values: list[str | signals.SKIP]) -> list[str]:
    # A child that raised SKIP has the SKIP as its result (as in Prefect 1).
    return [v for v in values if not isinstance(v, signals.SKIP)]


with Flow("mapping") as flow:
    fetched = fetch.map(pages(), size=unmapped(2))  # 3 children: fetch[0..2]
    counts = count.map(fetched)  # child k runs after fetch[k]
    shouted = shout.map(flatten(fetched))  # 6 children, one per row
    kept = keep(shouted)  # a reduce: sees all 6 results

state = flow.run()
print("fetch:", state.result[fetched].result)
print("counts:", state.result[counts].result)
print("shout children:", [s.name for s in state.result[shouted].map_states])
print("kept:", state.result[kept].result)
