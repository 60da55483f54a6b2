"""weir.apply_map: a function that builds tasks, mapped over its arguments (Prefect 1's).

Its docstring example, with a case block, runs as docs/examples/apply_map.py and, in
Prefect 1's exact words, in tests/compat/test_control_flow_flows.py.
"""

from __future__ import annotations

import pytest

from weir import Flow, apply_map, flatten, task, unmapped
from weir.core.builtins import Constant
from weir.utilities.tasks import apply_map as at_prefect_path


@task
def inc(x):
    return x + 1


@task
def add(x, y):
    return x + y


@task
def nums():
    return [1, 2, 3]


@task
def ten():
    return 10


def test_it_is_at_prefect_1s_paths():
    assert at_prefect_path is apply_map


def test_every_edge_made_inside_is_mapped_except_unmapped_arguments():
    def pipeline(x, y):
        return add(add(x, y), y)

    with Flow("f") as flow:
        n, y = nums(), ten()
        out = apply_map(pipeline, n, unmapped(y))
    edges = {(e.upstream_task.name, e.key): e.mapped for e in flow.edges}
    assert edges == {("nums", "x"): True, ("ten", "y"): False, ("add", "x"): True}
    assert flow.run().result[out].result == [21, 22, 23]


def test_an_unmapped_constant_stays_a_constant():
    with Flow("f") as flow:
        out = apply_map(lambda x, y: add(x, y), [1, 2], y=unmapped(100))
    assert flow.constants[out] == {"y": 100}
    assert flow.run().result[out].result == [101, 102]


def test_a_mapped_constant_becomes_a_constant_task():
    with Flow("f") as flow:
        out = apply_map(inc, [1, 2])
    (const,) = flow.upstream_tasks(out)
    assert isinstance(const, Constant) and const.value == [1, 2]
    assert flow.run().result[out].result == [2, 3]


def test_flatten_flattens_the_argument_first():
    with Flow("f") as flow:
        out = apply_map(inc, flatten([[1], [2, 3]]))
    assert flow.run().result[out].result == [2, 3, 4]


def test_tasks_without_inputs_inside_run_once_per_item():
    def with_a_root(x):
        return add(x, ten())

    with Flow("f") as flow:
        out = apply_map(with_a_root, nums())
    (made_ten,) = [t for t in flow.get_tasks(name="ten")]
    assert {(e.upstream_task.name, e.mapped) for e in flow.edges_to(made_ten)} == {("nums", True)}
    state = flow.run()
    assert state.result[out].result == [11, 12, 13]
    assert len(state.result[made_ten].map_states) == 3


def test_flow_keyword_is_passed_on():
    flow = Flow("imperative")

    def build(x, flow):
        return inc.copy().bind(x=x, flow=flow)

    out = apply_map(build, [1, 2], flow=flow)
    assert flow.run().result[out].result == [2, 3]


def test_bad_arguments_are_refused():
    with Flow("f"):
        with pytest.raises(TypeError, match="cannot map over a int"):
            apply_map(inc, 5)
        with pytest.raises(TypeError, match="cannot map over a str"):
            apply_map(inc, "abc")
    with pytest.raises(ValueError, match="could not find a flow"):
        apply_map(inc, [1])


def test_outside_apply_map_edges_are_as_before():
    with Flow("f") as flow:
        apply_map(inc, [1])
        plain = add(nums(), 1)
    assert all(not e.mapped for e in flow.edges_to(plain))
