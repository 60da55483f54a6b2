"""weir.core.control_flow: case blocks and merge, in the graph and when run."""

from __future__ import annotations

import pytest

from weir import Flow, Parameter, case, merge, task
from weir.core.control_flow import CompareValue, Merge
from weir.engine.state import Skipped, Success
from weir.exceptions import FlowValidationError


@task
def branch_on(x: str) -> str:
    return x


@task
def left() -> str:
    return "left"


@task
def right() -> str:
    return "right"


@task
def shout(x: str) -> str:
    return x.upper()


def build() -> tuple[Flow, dict[str, object]]:
    with Flow("branch") as flow:
        which = Parameter("which", default="left")
        cond = branch_on(which)
        with case(cond, "left"):
            lv = left()
            lv2 = shout(lv)
        with case(cond, "right"):
            rv = right()
            rv2 = shout(rv)
        m = merge(lv2, rv2)
        out = shout(m)
    return flow, {"lv": lv, "lv2": lv2, "rv": rv, "rv2": rv2, "m": m, "out": out, "cond": cond}


class TestCaseGraph:
    def test_condition_task_feeds_only_the_blocks_entry_points(self) -> None:
        flow, t = build()
        compares = [x for x in flow.tasks if isinstance(x, CompareValue)]
        assert len(compares) == 2
        for cmp in compares:
            assert flow.upstream_tasks(cmp) == {t["cond"]}
        entry_points = {d for c in compares for d in flow.downstream_tasks(c)}
        assert entry_points == {t["lv"], t["rv"]}

    def test_merge_takes_every_branch(self) -> None:
        flow, t = build()
        assert isinstance(t["m"], Merge)
        assert flow.upstream_tasks(t["m"]) == {t["lv2"], t["rv2"]}

    def test_empty_case_adds_nothing(self) -> None:
        with Flow("f") as flow:
            c = branch_on("x")
            with case(c, "x"):
                pass
        assert flow.tasks == {c}

    def test_case_on_a_constant_compares_it(self) -> None:
        # Prefect 1 makes a non-task condition a Constant, as any other argument.
        with Flow("f") as flow:
            with case(True, True):
                ran = left()
            with case(False, True):
                skipped = right()
        state = flow.run()
        assert state.result[ran].result == "left"
        assert state.result[skipped].is_skipped()

    def test_case_outside_a_flow_that_guards_nothing_says_so(self) -> None:
        # Outside `with Flow` a case guards what flow.add_task adds inside it (Prefect 1's
        # imperative API); one that saw nothing added was most likely misplaced.
        with pytest.warns(UserWarning, match="outside a `with Flow"):
            with case(branch_on.copy(), 1):
                pass

    def test_merge_needs_tasks(self) -> None:
        with pytest.raises(FlowValidationError, match="at least one task"):
            merge()


class TestCaseRun:
    @pytest.mark.parametrize(
        ("which", "taken", "skipped"), [("left", "l", "r"), ("right", "r", "l")]
    )
    def test_one_branch_runs_the_other_skips(self, which: str, taken: str, skipped: str) -> None:
        flow, t = build()
        state = flow.run(parameters={"which": which})
        results = state.result
        assert isinstance(state, Success)
        assert type(results[t[f"{taken}v"]]) is Success
        assert type(results[t[f"{taken}v2"]]) is Success
        assert type(results[t[f"{skipped}v"]]) is Skipped
        assert type(results[t[f"{skipped}v2"]]) is Skipped
        assert results[t["m"]].result == which.upper()
        assert results[t["out"]].result == which.upper()

    def test_no_branch_matches_skips_merge_and_below(self) -> None:
        flow, t = build()
        state = flow.run(parameters={"which": "neither"})
        assert type(state.result[t["m"]]) is Skipped
        assert type(state.result[t["out"]]) is Skipped
        assert isinstance(state, Success)  # skipped counts as success

    def test_merge_picks_the_first_non_none_in_argument_order(self) -> None:
        @task
        def value(v: object) -> object:
            return v

        with Flow("f") as flow:
            m = merge(value(None), value(2), value(3))
        assert flow.run().result[m].result == 2
