"""apply_map: a function that builds tasks (a case block here), mapped over a list."""

from __future__ import annotations

from weir import Flow, apply_map, case, task
from weir.tasks.control_flow import merge


@task
def inc(x):
    return x + 1


@task
def is_even(x):
    return x % 2 == 0


def inc_if_even(x):
    with case(is_even(x), True):
        x2 = inc(x)
    return merge(x2, x)


with Flow("example") as flow:
    res = apply_map(inc_if_even, range(10))

print(flow.run().result[res].result)
