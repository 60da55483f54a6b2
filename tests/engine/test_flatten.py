"""``flatten`` as Prefect 1 runs it: a list that is not a list of lists maps as it
stands, and each child of a mapped upstream gives its own items, or itself when it did
not succeed or returned no sequence."""

from __future__ import annotations

import logging

import pytest

from weir import Flow, flatten, signals, task
from weir.engine.flattening import flat_states
from weir.engine.state import Failed, Mapped, Skipped, Success, TriggerFailed
from weir.executors import Executor


@task
def identity(x: object) -> object:
    return x


@task
def pair_unless_two(x: int) -> list[int]:
    if x == 2:
        raise signals.SKIP("no twos")
    return [x, x]


class TestFlatStates:
    def test_a_list_of_lists_loses_one_level(self) -> None:
        items = flat_states(Success(result=[[1, [2]], [], [3]]))
        assert [s.result for s in items] == [1, [2], 3]

    @pytest.mark.parametrize("flat", [[1, 2, 3], [[1], 2], ["ab", 3]])
    def test_a_list_that_is_not_a_list_of_lists_stays_as_it_is(self, flat: list) -> None:
        assert [s.result for s in flat_states(Success(result=flat))] == flat

    def test_strings_are_sequences_as_in_prefect_1(self) -> None:
        assert [s.result for s in flat_states(Success(result=["ab", "c"]))] == ["a", "b", "c"]

    def test_a_result_without_a_length_cannot_be_mapped(self) -> None:
        with pytest.raises(TypeError):
            flat_states(Success(result=5))

    def test_mapped_children_give_their_items_or_themselves(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        skipped, failed, scalar = Skipped("no"), Failed("boom"), Success(result=7)
        parent = Mapped(
            map_states=[Success(result=[1, 2]), skipped, Success(result=[]), failed, scalar]
        )
        with caplog.at_level(logging.WARNING, logger="weir.engine.flattening"):
            items = flat_states(parent)
        assert items[2:] == [skipped, failed, scalar]
        assert [(type(s), s.result) for s in items[:2]] == [(Success, 1), (Success, 2)]
        assert "did not return a sequence" in caplog.text


class TestFlattenInFlows:
    def test_a_flat_list_maps_as_it_stands(self, executor: Executor) -> None:
        with Flow("f") as flow:
            r = identity.map(flatten([1, 2, 3]))
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert state.result[r].result == [1, 2, 3]

    def test_a_skipped_child_skips_only_the_child_it_feeds(self, executor: Executor) -> None:
        with Flow("f") as flow:
            pairs = pair_unless_two.map([1, 2, 3])
            r = identity.map(flatten(pairs))
        state = flow.run(executor=executor)
        assert state.is_successful()
        assert state.result[r].result == [1, 1, None, 3, 3]
        assert [s.name for s in state.result[r].map_states] == [
            "Success",
            "Success",
            "Skipped",
            "Success",
            "Success",
        ]

    def test_a_failed_child_trigger_fails_the_child_it_feeds(self) -> None:
        @task
        def pair_or_fail(x: int) -> list[int]:
            if x == 2:
                raise ValueError("no twos")
            return [x, x]

        with Flow("f") as flow:
            r = identity.map(flatten(pair_or_fail.map([1, 2])))
        state = flow.run()
        assert state.is_failed()
        children = state.result[r].map_states
        assert [type(s) for s in children] == [Success, Success, TriggerFailed]

    def test_a_skipped_child_is_kept_with_skip_on_upstream_skip_off(self) -> None:
        @task(skip_on_upstream_skip=False)
        def show(x: object) -> str:
            return repr(x)

        with Flow("f") as flow:
            r = show.map(flatten(pair_unless_two.map([1, 2])))
        state = flow.run()
        assert state.result[r].result == ["1", "1", "SKIP('no twos')"]

    def test_a_non_sequence_without_length_still_fails_with_the_fix(self) -> None:
        @task
        def five() -> int:
            return 5

        with Flow("f") as flow:
            r = identity.map(flatten(five()))
        state = flow.run()
        assert state.is_failed()
        assert "has no length" in (state.result[r].message or "")
