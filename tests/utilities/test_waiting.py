"""wait_until: the one way tests wait for something to hold."""

from __future__ import annotations

import pytest

from weir.utilities.waiting import wait_until


def test_it_returns_the_first_truthy_value() -> None:
    values = iter([0, None, [], "ready"])
    assert wait_until(lambda: next(values), 10, interval=0) == "ready"


def test_it_runs_the_step_between_tries() -> None:
    steps: list[int] = []
    assert wait_until(lambda: len(steps) >= 3, 10, step=lambda: steps.append(1), interval=0)
    assert steps == [1, 1, 1]


def test_it_gives_up_after_the_timeout_saying_why() -> None:
    state = {"seen": "nothing"}
    with pytest.raises(TimeoutError, match=r"within 0 s\.\nstill: nothing"):
        wait_until(lambda: False, 0, lambda: f"still: {state['seen']}", interval=0)
    with pytest.raises(TimeoutError, match="the run did not finish"):
        wait_until(lambda: False, 0, "the run did not finish", interval=0)
