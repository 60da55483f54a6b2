"""Lists, tuples, sets and dicts holding tasks, passed as arguments, as in Prefect 1."""

from __future__ import annotations

import pytest

from weir import Flow, apply_map, task, unmapped
from weir.core.builtins import Dict, List, Set, Tuple
from weir.tasks.core import collections


@task
def one():
    return 1


@task
def two():
    return 2


@task
def show(x):
    return x


@task
def add(x, y):
    return x + y


def test_they_are_at_prefect_1s_path():
    assert (collections.List, collections.Tuple, collections.Set, collections.Dict) == (
        List,
        Tuple,
        Set,
        Dict,
    )


def test_a_list_of_tasks_becomes_a_list_task_upstream():
    with Flow("c") as flow:
        a, b = one(), two()
        out = show([a, b, 3])
    (collect,) = flow.upstream_tasks(out)
    assert isinstance(collect, List)
    assert {e.key: e.upstream_task for e in flow.edges_to(collect)} == {"arg_1": a, "arg_2": b}
    assert flow.constants[collect] == {"arg_3": 3}
    assert flow.run().result[out].result == [1, 2, 3]


def test_every_kind_nests_and_keeps_its_type():
    with Flow("c") as flow:
        a, b = one(), two()
        t = show((a, [b, 4]))
        s = show({a, b})
        d = show({"a": a, b: "two", "n": [a, b]})
    state = flow.run()
    assert state.result[t].result == (1, [2, 4])
    assert state.result[s].result == {1, 2}
    assert state.result[d].result == {"a": 1, 2: "two", "n": [1, 2]}


def test_a_collection_without_tasks_stays_a_constant():
    with Flow("c") as flow:
        out = show([1, {"a": (2, 3)}])
    assert flow.constants[out] == {"x": [1, {"a": (2, 3)}]}
    assert len(flow.tasks) == 1


def test_ten_or_more_items_keep_their_order():
    with Flow("c") as flow:
        out = show([one() for _ in range(11)] + [5])
    assert flow.run().result[out].result == [1] * 11 + [5]


def test_mapping_over_a_list_of_tasks():
    with Flow("c") as flow:
        out = add.map([one(), two(), 10], unmapped(100))
    assert flow.run().result[out].result == [101, 102, 110]


def test_apply_map_over_a_list_of_tasks():
    with Flow("c") as flow:
        out = apply_map(lambda x: add(x, 1), [one(), two()])
    assert flow.run().result[out].result == [2, 3]


def test_dict_refuses_keys_and_values_of_different_lengths():
    with pytest.raises(ValueError, match="got 2 keys and 1 values"):
        Dict().run(keys=["a", "b"], values=[1])


def test_the_tasks_can_be_used_by_hand():
    with Flow("c") as flow:
        collected = List()(one(), two())
        pairs = Tuple()(one(), 3)
    state = flow.run()
    assert (state.result[collected].result, state.result[pairs].result) == ([1, 2], (1, 3))
