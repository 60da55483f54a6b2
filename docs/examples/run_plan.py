"""The run plan a FlowRunner builds once per flow: sorted tasks, edges in, and gates."""

from __future__ import annotations

from weir import Flow, task
from weir.engine.plan import plan_for


@task
def a() -> int:
    return 1


@task
def b(x: int) -> int:
    return x + 1


@task
def c(x: int) -> int:
    return x * 2


@task
def d(left: int, right: int) -> int:
    return left + right


with Flow("diamond") as flow:
    x = a()
    d(b(x), c(x))

plan = plan_for(flow)
for i, slug in enumerate(plan.slugs):
    ups = [plan.slugs[j] for _, j, _ in plan.up[i]]
    downs = [plan.slugs[j] for _, j, _ in plan.down[i]]
    print(f"{slug}: gate={plan.gate[i]} upstream={ups} downstream={downs}")

state = flow.run()
print("d =", state.result[flow.get_tasks(name="d")[0]].result)
