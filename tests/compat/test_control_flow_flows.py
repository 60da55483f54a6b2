"""Prefect 1 flows, ported by changing ``prefect`` to ``weir`` in their imports.

Each flow is written as Prefect 1's docs and docstrings write it; each test checks
the result Prefect 1 gives for it.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from weir import Flow, Parameter, Task, apply_map, case, mapped, tags, task, unmapped
from weir.core.parameter import DateTimeParameter
from weir.engine.state import Skipped, Success
from weir.tasks.control_flow import FilterTask, ifelse, merge, switch
from weir.utilities.edges import flatten
from weir.utilities.tasks import defaults_from_attrs


@task
def check_condition(flag):
    return flag


@task
def action_if_true():
    return "I am true!"


@task
def action_if_false():
    return "I am false!"


@task
def shout(x):
    return f"{x.upper()}"


def test_case_blocks_and_merge():
    # Prefect 1 docs, "Use conditional logic in a Flow".
    with Flow("conditional-branches") as flow:
        flag = Parameter("flag", default=True)
        cond = check_condition(flag)
        with case(cond, True):
            val1 = action_if_true()
        with case(cond, False):
            val2 = action_if_false()
        val = merge(val1, val2)
        loud = shout(val)

    state = flow.run()
    assert state.is_successful()
    assert state.result[loud].result == "I AM TRUE!"
    assert isinstance(state.result[val2], Skipped)
    state = flow.run(parameters={"flag": False})
    assert state.result[loud].result == "I AM FALSE!"
    assert isinstance(state.result[val1], Skipped)


@task
def condition():
    return "b"  # returning 'b' will take the b_branch


@task
def a_branch():
    return "A Branch"


@task
def b_branch():
    return "B Branch"


def test_switch_docstring_flow():
    with Flow("switch-flow") as flow:
        a, b = a_branch(), b_branch()
        switch(condition, dict(a=a, b=b))
        result = merge(a, b)

    state = flow.run()
    assert state.is_successful()
    assert isinstance(state.result[a], Skipped)
    assert state.result[b].result == "B Branch"
    assert state.result[result].result == "B Branch"


class ActionIfTrue(Task):
    def run(self):
        return 1


class ActionIfFalse(Task):
    def run(self):
        return 2


class CheckCondition(Task):
    def run(self, value):
        return value > 10


def test_ifelse_and_merge_docstring_flow():
    with Flow("My Flow") as flow:
        value = Parameter("value")
        true_branch = ActionIfTrue()
        false_branch = ActionIfFalse()
        ifelse(CheckCondition()(value), true_branch, false_branch)
        merged_result = merge(true_branch, false_branch)

    assert flow.run(parameters={"value": 11}).result[merged_result].result == 1
    assert flow.run(parameters={"value": 3}).result[merged_result].result == 2


class AddTask(Task):
    def run(self, x, y):
        return x + y


class ListTask(Task):
    def run(self):
        return [1, 2, 3]


class NestedListTask(Task):
    def run(self):
        return [[1], [2, 3]]


def test_edge_annotations_docstring_flows():
    with Flow("My Flow") as flow:
        add = AddTask()
        ll = ListTask()
        with_mapped = add(x=mapped(ll), y=5)
        with_unmapped = add.map(x=ll, y=unmapped(5))
        flattened = add.map(x=flatten(NestedListTask()), y=unmapped(100))

    state = flow.run()
    assert state.result[with_mapped].result == [6, 7, 8]
    assert state.result[with_unmapped].result == [6, 7, 8]
    assert state.result[flattened].result == [101, 102, 103]


@task
def add_one(x):
    return x + 1


@task
def div(x):
    return 1 / x


def test_filter_task_docstring_flow():
    default_filter = FilterTask()
    even_filter = FilterTask(filter_func=lambda x: x % 2 == 0)
    log_filter = FilterTask(
        filter_func=lambda x: x % 2 == 0,
        log_func=lambda x: f"Even numbers: {', '.join([str(y) for y in x])}",
    )

    with Flow("filter-numbers") as flow:
        even_numbers = even_filter(add_one.map(x=[-1, 0, 1, 2, 3, 99, 314]))
        even_numbers_log = log_filter(add_one.map(x=[-1, 0, 1, 2, 3, 99, 314]))
        final_numbers = default_filter(div.map(even_numbers))

    state = flow.run()
    assert state.result[final_numbers].result == [0.5, 0.25, 0.01]
    assert state.result[even_numbers_log].result == [0, 2, 4, 100]


class Query(Task):
    """A Prefect 1 "task template": settings at init, overridden per call."""

    def __init__(self, table=None, limit=10, **kwargs):
        self.table = table
        self.limit = limit
        super().__init__(**kwargs)

    @defaults_from_attrs("table", "limit")
    def run(self, since, table=None, limit=None):
        return f"SELECT * FROM {table} WHERE ts >= '{since.isoformat()}' LIMIT {limit}"


def test_a_template_task_with_tags_and_a_datetime_parameter():
    users = Query(table="users", name="users")
    with Flow("queries") as flow:
        since = DateTimeParameter("since", default="2024-01-01")
        with tags("db"):
            q1 = users(since=since)
            q2 = users(since=since, table="orders", limit=5)

    assert q1.tags == q2.tags == {"db"} and users.tags == set()
    state = flow.run(parameters={"since": "2024-03-01T12:00:00+00:00"})
    assert isinstance(state.result[q1], Success)
    assert state.result[q1].result == (
        "SELECT * FROM users WHERE ts >= '2024-03-01T12:00:00+00:00' LIMIT 10"
    )
    assert state.result[q2].result == (
        "SELECT * FROM orders WHERE ts >= '2024-03-01T12:00:00+00:00' LIMIT 5"
    )
    assert state.result[since].result == datetime(2024, 3, 1, 12, tzinfo=timezone.utc)
    assert flow.run().result[since].result == datetime(2024, 1, 1, tzinfo=timezone.utc)


@task
def inc(x):
    return x + 1


@task
def is_even(x):
    return x % 2 == 0


def test_apply_map_docstring_flow():
    # Prefect 1's apply_map docstring, word for word but the import: merge(x, x2) takes
    # the first real result, which is always x.
    def inc_if_even(x):
        with case(is_even(x), True):
            x2 = inc(x)
        return merge(x, x2)

    with Flow("example") as flow:
        res = apply_map(inc_if_even, range(10))

    state = flow.run()
    assert state.is_successful()
    assert state.result[res].result == list(range(10))
    (x2,) = flow.get_tasks(name="inc")
    ran = [type(child).__name__ for child in state.result[x2].map_states]
    assert ran == ["Success", "Skipped"] * 5


@task
def a_number():
    return 1


@task
def sum_numbers(numbers):
    return sum(numbers)


@task
def describe(info):
    return f"{info['name']} has {len(info['items'])} items, first {info['items'][0]}"


def test_collections_of_tasks_as_arguments():
    # Prefect 1 turns a list or dict holding tasks into a task of their results.
    with Flow("collections") as flow:
        total = sum_numbers([a_number(), a_number(), 3])
        text = describe({"name": "numbers", "items": [a_number(), 5]})

    state = flow.run()
    assert state.result[total].result == 5
    assert state.result[text].result == "numbers has 2 items, first 1"


def test_operators_on_tasks_and_parameters():
    # Prefect 1 builds operator tasks from Python operators on tasks.
    with Flow("math") as flow:
        x = Parameter("x")
        y = Parameter("y", default=2)
        total = (x + y) * 2
        big = total > 10
        with case(big, True):
            loud = shout("big")
        with case(big.not_(), True):
            quiet = shout.copy()("small")
        said = merge(loud, quiet)

    state = flow.run(parameters={"x": 5})
    assert (state.result[total].result, state.result[said].result) == (14, "BIG")
    state = flow.run(parameters={"x": 1})
    assert (state.result[total].result, state.result[said].result) == (6, "SMALL")


@pytest.mark.parametrize("condition", [True, False])
def test_case_with_the_imperative_api(condition):
    # Prefect 1's docs, idioms/conditional.md, "Imperative API" tab (random() fixed).
    seen = []

    class CheckCondition(Task):
        def run(self):
            return condition

    class ActionIfTrue(Task):
        def run(self):
            return "I am true!"

    class ActionIfFalse(Task):
        def run(self):
            return "I am false!"

    class AnotherAction(Task):
        def run(self, val):
            seen.append(val)

    flow = Flow("conditional-branches")

    check_condition = CheckCondition()
    flow.add_task(check_condition)

    with case(check_condition, True):
        val = ActionIfTrue()
        flow.add_task(val)
        AnotherAction().bind(val=val, flow=flow)

    with case(check_condition, False):
        val = ActionIfFalse()
        flow.add_task(val)
        AnotherAction().bind(val=val, flow=flow)

    state = flow.run()
    assert state.is_successful()
    assert seen == ["I am true!" if condition else "I am false!"]
