"""weir.tasks.control_flow: switch, ifelse, merge and FilterTask, built and run."""

from __future__ import annotations

import logging

import pytest

from weir import Flow, Parameter, task
from weir.engine.state import Skipped, Success
from weir.engine.triggers import all_finished, not_all_skipped
from weir.exceptions import FlowValidationError
from weir.tasks.control_flow import CompareValue, FilterTask, Merge, case, ifelse, merge, switch


@task
def pick(x):
    return x


@task
def a_branch():
    return "A"


@task
def b_branch():
    return "B"


@task
def shout(x):
    return x.upper()


class TestSwitch:
    def test_each_case_gets_a_compare_value_tagged_switch(self):
        with Flow("switch") as flow:
            cond = pick("b")
            a, b = a_branch(), b_branch()
            switch(cond, {"a": a, "b": b})
        compares = {
            flow.downstream_tasks(c).pop(): c for c in flow.get_tasks(task_type=CompareValue)
        }
        assert set(compares) == {a, b}
        assert {compares[a].value, compares[b].value} == {"a", "b"}
        assert all(
            c.tags == {"switch"} and flow.upstream_tasks(c) == {cond} for c in compares.values()
        )
        assert compares[a].name == 'CompareValue: "a"'

    def test_only_the_matching_case_runs_and_skips_flow_down(self):
        with Flow("switch") as flow:
            cond = pick("b")
            a, b = a_branch(), b_branch()
            switch(cond, {"a": a, "b": b})
            after_a = shout(a)
        state = flow.run()
        assert state.is_successful()
        assert isinstance(state.result[a], Skipped) and isinstance(state.result[after_a], Skipped)
        assert state.result[b].result == "B"

    def test_no_match_skips_every_case(self):
        with Flow("switch") as flow:
            a, b = a_branch(), b_branch()
            switch(pick("c"), {"a": a, "b": b})
        state = flow.run()
        assert all(isinstance(state.result[t], Skipped) for t in (a, b))

    def test_a_case_that_is_not_a_task_is_refused(self):
        with Flow("switch"), pytest.raises(FlowValidationError, match="case 'a' must be a task"):
            switch(pick("a"), {"a": "A"})  # type: ignore[dict-item]

    def test_after_the_flow_block_the_conditions_flow_is_used(self):
        with Flow("later") as flow:
            cond = pick("a")
            a = a_branch()
        switch(cond, {"a": a})  # outside the block: the flow cond was bound in
        assert flow.run().result[a].result == "A"
        assert len(flow.get_tasks(task_type=CompareValue)) == 1


class TestIfElse:
    @pytest.mark.parametrize(("value", "ran"), [(1, "A"), ("", "B"), ([0], "A"), (None, "B")])
    def test_truthiness_picks_the_branch(self, value, ran):
        with Flow("ifelse") as flow:
            a, b = a_branch(), b_branch()
            ifelse(pick(value), a, b)
            m = merge(a, b)
        assert flow.run().result[m].result == ran

    def test_a_missing_branch_is_allowed(self):
        with Flow("ifelse") as flow:
            a = a_branch()
            ifelse(pick(0), a, None)
        assert isinstance(flow.run().result[a], Skipped)

    def test_it_branches_on_an_as_bool_task(self):
        with Flow("ifelse") as flow:
            cond = pick(1)
            ifelse(cond, a_branch(), b_branch())
        (as_bool,) = flow.get_tasks(name="as_bool")
        assert flow.upstream_tasks(as_bool) == {cond}

    def test_mapped_ifelse_branches_per_item(self):
        with Flow("mapped ifelse") as flow:
            flags = pick([1, 0, 1])
            a = a_branch.map(upstream_tasks=[flags])
            ifelse(flags, a, None, mapped=True)
        state = flow.run()
        children = state.result[a].map_states
        assert [type(c).__name__ for c in children] == ["Success", "Skipped", "Success"]


class TestMerge:
    def test_defaults(self):
        m = Merge()
        assert (m.name, m.trigger, m.skip_on_upstream_skip) == ("merge", not_all_skipped, False)

    def test_skip_on_upstream_skip_is_refused(self):
        with pytest.raises(ValueError, match="skip_on_upstream_skip=False"):
            Merge(skip_on_upstream_skip=True)

    def test_options_go_to_the_merge_task(self):
        with Flow("merge") as flow:
            m = merge(a_branch(), b_branch(), name="joined", tags=["m"])
        assert (m.name, m.tags) == ("joined", {"m"})
        assert flow.run().result[m].result == "A"

    def test_ten_or_more_branches_keep_their_order(self):
        @task
        def none():
            return None

        with Flow("merge") as flow:
            m = merge(*[none() for _ in range(10)], pick("tenth"), pick("eleventh"))
        assert flow.run().result[m].result == "tenth"

    def test_merge_with_case_and_a_parameter(self):
        with Flow("branch") as flow:
            which = Parameter("which", default="left")
            with case(which, "left"):
                left = shout("left")
            with case(which, "right"):
                right = shout("right")
            m = merge(left, right)
        assert flow.run().result[m].result == "LEFT"
        assert flow.run(parameters={"which": "right"}).result[m].result == "RIGHT"

    def test_a_merge_of_branches_that_all_skipped_skips_with_no_result(self):
        # As in Prefect 1: downstream of such a merge gets None, not the SKIP signal.
        with Flow("no-branch") as flow:
            which = Parameter("which", default="neither")
            with case(which, "left"):
                left = shout("left")
            with case(which, "right"):
                right = shout("right")
            m = merge(left, right)
        state = flow.run().result[m]
        assert isinstance(state, Skipped) and state.result is None

    def test_case_refuses_a_task_as_the_value(self):
        with Flow("x"), pytest.raises(TypeError, match="value must be a constant"):
            case(pick(1), pick(2))


@task
def add(x):
    return x + 1


@task
def div(x):
    return 1 / x


class TestFilterTask:
    def test_defaults(self):
        f = FilterTask()
        assert (f.trigger, f.skip_on_upstream_skip) == (all_finished, False)

    def test_default_filter_drops_none_and_exceptions(self):
        assert FilterTask().run([1, None, ValueError("x"), 0, "", []]) == [1, 0, "", []]

    def test_prefect_1_docstring_example(self):
        even = FilterTask(filter_func=lambda x: x % 2 == 0)
        default = FilterTask()
        with Flow("filter-numbers") as flow:
            even_numbers = even(add.map(x=[-1, 0, 1, 2, 3, 99, 314]))
            final = default(div.map(even_numbers))
        state = flow.run()
        assert state.is_successful()
        assert state.result[even_numbers].result == [0, 2, 4, 100]
        assert state.result[final].result == [0.5, 0.25, 0.01]  # 1/0 failed and was dropped

    def test_log_func_writes_to_the_log(self, caplog):
        f = FilterTask(filter_func=lambda x: x > 1, log_func=lambda kept: f"kept {kept}")
        with caplog.at_level(logging.INFO):
            assert f.run([1, 2, 3]) == [2, 3]
        assert "kept [2, 3]" in caplog.text

    def test_it_runs_after_skipped_upstreams(self):
        with Flow("f") as flow:
            items = a_branch.map(upstream_tasks=[pick([1])])
            switch(pick("x"), {"y": items})
            kept = FilterTask()(items)
        state = flow.run()
        assert isinstance(state.result[kept], Success)
        assert state.result[kept].result == []


def test_a_parameter_first_used_in_a_case_block_stays_a_root():
    with Flow("f") as flow:
        cond = pick(True)
        with case(cond, True):
            p = Parameter("p", default=1)
            out = shout.copy()(p)
    assert flow.upstream_tasks(p) == set()
    (compare,) = flow.get_tasks(task_type=CompareValue)
    assert flow.downstream_tasks(compare) == {out}
