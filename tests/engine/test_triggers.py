"""weir.engine.triggers: each trigger as a function, and each one deciding in a flow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from weir import Flow, context, signals, task, triggers
from weir.engine.state import (
    Cached,
    Failed,
    Mapped,
    Paused,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from weir.executors import Executor

# Upstream situations, by short name; each letter is one upstream task's state.
STATES: dict[str, Callable[[], State]] = {
    "s": lambda: Success(),
    "c": lambda: Cached(),
    "k": lambda: Skipped(),
    "f": lambda: Failed(),
    "t": lambda: TimedOut(),
    "x": lambda: TriggerFailed(),
}
SITUATIONS = ["", "s", "ss", "sc", "k", "kk", "sk", "f", "ff", "sf", "ft", "x", "kf", "scf"]


def upstream(situation: str) -> dict[Any, State]:
    return {f"edge{i}": STATES[ch]() for i, ch in enumerate(situation)}


def ok(situation: str) -> int:
    return sum(ch in "sck" for ch in situation)


def bad(situation: str) -> int:
    return sum(ch in "ftx" for ch in situation)


# What each trigger should decide, written from the Prefect 1 documentation:
# True (run), "fail" (TRIGGERFAIL) or "skip" (SKIP).
EXPECTED: dict[str, Callable[[str], Any]] = {
    "all_successful": lambda s: bad(s) == 0 or "fail",
    "all_failed": lambda s: ok(s) == 0 or "fail",
    "any_successful": lambda s: not s or ok(s) > 0 or "fail",
    "any_failed": lambda s: not s or bad(s) > 0 or "fail",
    "all_finished": lambda s: True,
    "always_run": lambda s: True,
    "not_all_skipped": lambda s: "skip" if s and set(s) == {"k"} else (bad(s) == 0 or "fail"),
}


def decide(trigger: Callable[[dict[Any, State]], bool], situation: str) -> Any:
    try:
        return trigger(upstream(situation))
    except signals.TRIGGERFAIL:
        return "fail"
    except signals.SKIP:
        return "skip"


CASES = [(name, s) for name in EXPECTED for s in SITUATIONS]


class TestTriggerFunctions:
    @pytest.mark.parametrize(("name", "situation"), CASES, ids=[f"{n}-{s}" for n, s in CASES])
    def test_decision(self, name: str, situation: str) -> None:
        assert decide(getattr(triggers, name), situation) == EXPECTED[name](situation)

    def test_always_run_is_all_finished(self) -> None:
        assert triggers.always_run is triggers.all_finished

    def test_all_finished_fails_on_unfinished_upstream(self) -> None:
        from weir.engine.state import Running

        with pytest.raises(signals.TRIGGERFAIL, match="all_finished"):
            triggers.all_finished({"e": Running()})

    @pytest.mark.parametrize(
        ("at_least", "at_most", "situation", "runs"),
        [
            (1, None, "ff", False),
            (1, None, "sf", True),
            (None, 1, "ss", False),
            (None, 1, "sf", True),
            (2, 2, "ssf", True),
            (2, 2, "sff", False),
            (0.5, None, "sf", True),  # a float is a fraction of the upstream tasks
            (0.5, None, "sff", False),
            (None, 0.5, "ssf", False),
            (1.0, None, "sf", True),  # 1.0 is not below 1: one task, as in Prefect 1
            (1.0, None, "ff", False),
            (0.99, None, "sf", False),
            (2, None, "", True),  # a root task runs, as in Prefect 1
            (1, None, "kf", True),  # skipped counts as successful
            (None, None, "ff", True),
        ],
    )
    def test_some_successful(
        self, at_least: float | None, at_most: float | None, situation: str, runs: bool
    ) -> None:
        trigger = triggers.some_successful(at_least=at_least, at_most=at_most)
        assert decide(trigger, situation) == (True if runs else "fail")
        assert trigger.__name__ == "some_successful"

    @pytest.mark.parametrize(
        ("at_least", "at_most", "situation", "runs"),
        [
            (1, None, "ss", False),
            (1, None, "sf", True),
            (None, 1, "ff", False),
            (None, 1, "sx", True),  # TriggerFailed is a failure
            (0.5, None, "st", True),
            (0.5, None, "ssf", False),
            (1, None, "", True),  # a root task runs, as in Prefect 1
        ],
    )
    def test_some_failed(
        self, at_least: float | None, at_most: float | None, situation: str, runs: bool
    ) -> None:
        trigger = triggers.some_failed(at_least=at_least, at_most=at_most)
        assert decide(trigger, situation) == (True if runs else "fail")

    def test_some_successful_message_says_the_counts(self) -> None:
        with pytest.raises(signals.TRIGGERFAIL, match=r"at_least=2.*1 of 2 upstream"):
            triggers.some_successful(at_least=2)(upstream("sf"))

    def test_manual_only_pauses_unless_resumed(self) -> None:
        with pytest.raises(signals.PAUSE):
            triggers.manual_only(upstream("s"))
        with context(resume=True):
            assert triggers.manual_only(upstream("s")) is True

    def test_public_module_reexports(self) -> None:
        import weir.triggers

        for name in triggers.__all__:
            assert getattr(weir.triggers, name) is getattr(triggers, name)


@task
def good() -> str:
    return "good"


@task
def boom() -> None:
    raise ValueError("boom")


@task
def skipper() -> None:
    raise signals.SKIP("skip")


def run_with_trigger(
    trigger: Callable[..., bool], ups: str, executor: Executor | None = None
) -> State:
    makers = {"s": good, "f": boom, "k": skipper}

    @task(trigger=trigger, skip_on_upstream_skip=False)
    def down() -> str:
        return "ran"

    with Flow("trigger") as flow:
        d = down(upstream_tasks=[makers[ch]() for ch in ups])
    return flow.run(executor=executor).result[d]


FLOW_CASES: list[tuple[str, Callable[..., bool], str, type[State]]] = [
    ("all_successful", triggers.all_successful, "ss", Success),
    ("all_successful", triggers.all_successful, "sf", TriggerFailed),
    ("all_failed", triggers.all_failed, "ff", Success),
    ("all_failed", triggers.all_failed, "sf", TriggerFailed),
    ("any_successful", triggers.any_successful, "sf", Success),
    ("any_successful", triggers.any_successful, "ff", TriggerFailed),
    ("any_failed", triggers.any_failed, "sf", Success),
    ("any_failed", triggers.any_failed, "ss", TriggerFailed),
    ("all_finished", triggers.all_finished, "sf", Success),
    ("always_run", triggers.always_run, "ff", Success),
    ("not_all_skipped", triggers.not_all_skipped, "sk", Success),
    ("not_all_skipped", triggers.not_all_skipped, "kk", Skipped),
    ("not_all_skipped", triggers.not_all_skipped, "kf", TriggerFailed),
    ("some_successful", triggers.some_successful(at_least=1, at_most=1), "sf", Success),
    ("some_successful", triggers.some_successful(at_least=1, at_most=1), "ss", TriggerFailed),
    ("some_failed", triggers.some_failed(at_least=0.5), "sf", Success),
    ("some_failed", triggers.some_failed(at_least=0.5), "ssf", TriggerFailed),
    ("manual_only", triggers.manual_only, "s", Paused),
]


class TestTriggersInFlows:
    @pytest.mark.parametrize(
        ("name", "trigger", "ups", "expected"),
        FLOW_CASES,
        ids=[f"{c[0]}-{c[2]}" for c in FLOW_CASES],
    )
    def test_trigger_decides(
        self,
        name: str,
        trigger: Callable[..., bool],
        ups: str,
        expected: type[State],
        executor: Executor,
    ) -> None:
        state = run_with_trigger(trigger, ups, executor)
        assert type(state) is expected
        if expected is Success:
            assert state.result == "ran"

    def test_trigger_failed_is_not_retried(self) -> None:
        calls: list[int] = []

        @task(max_retries=3, retry_delay=0.01)
        def down() -> None:
            calls.append(1)

        with Flow("f") as flow:
            d = down(upstream_tasks=[boom()])
        assert type(flow.run().result[d]) is TriggerFailed
        assert calls == []

    def test_manual_only_task_leaves_the_flow_running(self) -> None:
        @task(trigger=triggers.manual_only)
        def approve() -> str:
            return "approved"

        with Flow("f") as flow:
            a = approve(upstream_tasks=[good()])
        state = flow.run()
        assert state.is_running()
        assert "approve" in (state.message or "")
        assert type(state.result[a]) is Paused

    def test_manual_only_root_task_pauses(self) -> None:
        @task(trigger=triggers.manual_only)
        def approve() -> str:
            return "approved"

        with Flow("f") as flow:
            a = approve()
        assert type(flow.run().result[a]) is Paused

    def test_manual_only_runs_when_resumed(self) -> None:
        @task(trigger=triggers.manual_only)
        def approve() -> str:
            return "approved"

        with Flow("f") as flow:
            a = approve(upstream_tasks=[good()])
        state = flow.run(context={"resume": True})
        assert state.result[a].result == "approved"

    def test_trigger_sees_mapped_children(self, executor: Executor) -> None:
        @task
        def fragile(x: int) -> int:
            if x == 2:
                raise ValueError("two")
            return x

        @task
        def collect(xs: list[Any]) -> int:
            return len(xs)

        @task(trigger=triggers.all_finished)
        def collect_anyway(xs: list[Any]) -> int:
            return len(xs)

        with Flow("f") as flow:
            m = fragile.map([1, 2, 3])
            strict = collect(m)
            lenient = collect_anyway(m)
        state = flow.run(executor=executor)
        assert type(state.result[m]) is Mapped
        assert type(state.result[strict]) is TriggerFailed
        assert state.result[lenient].result == 3

    def test_trigger_that_raises_an_error_fails_the_task(self) -> None:
        def broken(upstream_states: Any) -> bool:
            raise RuntimeError("bad trigger")

        state = run_with_trigger(broken, "s")
        assert type(state) is TriggerFailed
        assert "bad trigger" in (state.message or "")

    def test_trigger_returning_false(self) -> None:
        state = run_with_trigger(lambda ups: False, "s")
        assert type(state) is TriggerFailed
