"""Operators on tasks build operator tasks, as in Prefect 1 (weir.core.operators)."""

from __future__ import annotations

import pytest

from weir import Flow, Parameter, Task, task
from weir.core import operators
from weir.exceptions import FlowValidationError
from weir.tasks.core import operators as at_prefect_path


@task
def one():
    return 1


@task
def two():
    return 2


def test_every_operator_builds_its_task_and_runs():
    with Flow("ops") as flow:
        a, b = one(), two()
        built = {
            "a + b": (a + b, 3),
            "a - 5": (a - 5, -4),
            "10 * b": (10 * b, 20),
            "b / 4": (b / 4, 0.5),
            "7 // b": (7 // b, 3),
            "7 % b": (7 % b, 1),
            "b ** 3": (b**3, 8),
            "2 ** b": (2**b, 4),
            "1 + a": (1 + a, 2),
            "5 - a": (5 - a, 4),
            "a < b": (a < b, True),
            "a <= 1": (a <= 1, True),
            "a > b": (a > b, False),
            "a >= b": (a >= b, False),
            "a.is_equal(1)": (a.is_equal(1), True),
            "a.is_not_equal(b)": (a.is_not_equal(b), True),
            "a.not_()": (a.not_(), False),
            "a & 0": (a & 0, 0),
            "0 & a": (0 & a, 0),
            "a.or_(0)": (a.or_(0), 1),
        }
    state = flow.run()
    assert {k: state.result[t].result for k, (t, _) in built.items()} == {
        k: want for k, (_, want) in built.items()
    }
    assert isinstance(built["a + b"][0], operators.Add)
    assert isinstance(built["1 + a"][0], operators.Add)


def test_operators_take_parameters_and_feed_other_tasks():
    @task
    def double(x):
        return 2 * x

    with Flow("ops") as flow:
        n = Parameter("n", default=3)
        out = double(n * 10 + 1)
    assert flow.run().result[out].result == 62
    assert flow.run(parameters={"n": 1}).result[out].result == 22


def test_equality_keeps_its_python_meaning():
    with Flow("ops"):
        a = one()
    assert (a == a) is True and (a != one.copy()) is True
    assert len({a, a}) == 1


def test_pipe_sets_a_state_dependency_and_chains():
    with Flow("ops") as flow:
        a, b, c = one(), two(), one()
        assert (a | b | c) is c
    assert flow.upstream_tasks(b) == {a} and flow.upstream_tasks(c) == {b}
    assert all(e.key is None for e in flow.edges)


def test_outside_a_flow_an_operator_names_the_fix():
    with pytest.raises(FlowValidationError, match="was used outside a flow"):
        Task(name="lonely") + 1


def test_get_attr_and_the_prefect_1_module():
    assert operators.GetAttr().run(task_result=1j, attr="imag") == 1.0
    assert operators.GetAttr().run(task_result=1, attr="nope", default=None) is None
    assert at_prefect_path.Add is operators.Add and at_prefect_path.GetItem is not None
