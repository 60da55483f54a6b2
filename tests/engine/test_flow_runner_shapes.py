"""Prefect 1's ``FlowRunner.run`` call shape (Prefect 1.4.1 ``FlowRunner.run`` docs):
``state=``, ``task_states=``, ``return_tasks=``, ``task_runner_state_handlers=``, one
pass that ends Running while tasks retry later, and a later pass resuming from the
states the first one returned (plain tasks, and part of a map's children)."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest

from weir import Flow, Parameter, Task, task
from weir.engine.flow_runner import FlowRunner
from weir.engine.state import (
    Failed,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Scheduled,
    State,
    Success,
)
from weir.engine.task_runner import TaskRunner
from weir.executors.threads import ThreadExecutor

LATER = datetime.timedelta(minutes=10)
NOW = datetime.timedelta(0)


@task
def one() -> int:
    return 1


@task
def inc(x: int) -> int:
    return x + 1


def chain_flow() -> tuple[Flow, Task, Task]:
    with Flow("chain") as f:
        a = one()
        b = inc(a)
    return f, a, b


class TestReturnTasks:
    def test_the_result_holds_only_the_tasks_asked_for(self) -> None:
        f, a, b = chain_flow()
        state = FlowRunner(f).run(return_tasks=[b])
        assert state.is_successful()
        assert set(state.result) == {b} and state.result[b].result == 2

    def test_by_default_the_result_is_empty(self) -> None:
        f, _, _ = chain_flow()
        state = FlowRunner(f).run()
        assert state.is_successful() and state.result == {}

    def test_a_task_not_in_the_flow_fails_the_run(self) -> None:
        f, _, _ = chain_flow()
        state = FlowRunner(f).run(return_tasks=[Task(name="stranger")])
        assert state.is_failed()
        assert "stranger" in state.message and isinstance(state.result, ValueError)

    def test_flow_run_returns_every_task(self) -> None:
        f, a, b = chain_flow()
        assert set(f.run().result) == {a, b}


class TestStartingState:
    def test_a_finished_state_is_returned_as_it_is(self) -> None:
        f, a, b = chain_flow()
        given = Success(result=5)
        state = FlowRunner(f).run(state=given, return_tasks=[a, b])
        assert state is given and state.result == 5

    def test_a_scheduled_state_not_due_yet_is_returned(self) -> None:
        f, _, _ = chain_flow()
        given = Scheduled(start_time=time.time() + 3600)
        assert FlowRunner(f).run(state=given) is given

    def test_a_scheduled_state_due_runs(self) -> None:
        f, _, b = chain_flow()
        state = FlowRunner(f).run(state=Scheduled(start_time=time.time() - 1), return_tasks=[b])
        assert state.is_successful() and state.result[b].result == 2

    def test_a_running_state_goes_on_without_a_second_running(self) -> None:
        f, _, _ = chain_flow()
        seen: list[str] = []
        FlowRunner(f, state_handlers=[lambda fl, old, new: seen.append(new.name)]).run(
            state=Running()
        )
        assert seen == ["Success"]


class TestTaskStates:
    def test_a_finished_task_is_kept(self) -> None:
        f, a, b = chain_flow()
        state = FlowRunner(f).run(task_states={a: Success(result=10)}, return_tasks=[a, b])
        assert state.result[b].result == 11

    def test_a_pending_task_runs(self) -> None:
        f, a, b = chain_flow()
        state = FlowRunner(f).run(task_states={a: Pending()}, return_tasks=[b])
        assert state.result[b].result == 2

    def test_a_task_scheduled_for_later_stays_scheduled(self) -> None:
        f, a, b = chain_flow()
        later = Scheduled(start_time=time.time() + 3600)
        state = FlowRunner(f).run(task_states={a: later}, return_tasks=[a, b])
        assert state.is_running()
        assert state.result[a] is later
        assert type(state.result[b]) is Pending

    def test_a_task_scheduled_in_the_past_runs(self) -> None:
        f, a, b = chain_flow()
        due = Scheduled(start_time=time.time() - 1)
        state = FlowRunner(f).run(task_states={a: due}, return_tasks=[b])
        assert state.result[b].result == 2

    def test_flow_run_waits_for_a_given_scheduled_task(self) -> None:
        f, a, b = chain_flow()
        soon = Scheduled(start_time=time.time() + 0.2)
        assert f.run(task_states={a: soon}).result[b].result == 2

    def test_a_running_task_is_left_as_it_is(self) -> None:
        f, a, b = chain_flow()
        running = Running()
        state = FlowRunner(f).run(task_states={a: running}, return_tasks=[a, b])
        assert state.is_running() and state.result[a] is running


def failing_task(delay: datetime.timedelta, retries: int = 1) -> Task:
    calls: list[int] = []

    @task(max_retries=retries, retry_delay=delay)
    def flaky() -> int:
        calls.append(1)
        if len(calls) <= retries:
            raise ValueError("not yet")
        return len(calls)

    return flaky


class TestRetriesInOnePass:
    def test_a_retry_due_later_ends_the_pass_running(self) -> None:
        with Flow("f") as f:
            r = failing_task(LATER)()
            s = inc(r)
        state = FlowRunner(f).run(return_tasks=[r, s])
        assert state.is_running()
        assert type(state.result[r]) is Retrying
        assert state.result[r].start_time > time.time() + 500
        assert type(state.result[s]) is Pending

    def test_a_retry_due_now_also_waits_for_the_next_pass(self) -> None:
        with Flow("f") as f:
            r = failing_task(NOW)()
        state = FlowRunner(f).run(return_tasks=[r])
        assert state.is_running() and type(state.result[r]) is Retrying
        again = FlowRunner(f).run(task_states=state.result, return_tasks=[r])
        assert again.is_successful()
        assert again.result[r].result == 2

    def test_the_next_pass_runs_due_retries_only(self) -> None:
        # Prefect 1's test_flow_with_multiple_retry_tasks_doesnt_run_them_early.
        with Flow("f") as f:
            start = one()
            later = failing_task(LATER)(upstream_tasks=[start])
            now = failing_task(NOW)(upstream_tasks=[start])
        first = FlowRunner(f).run(return_tasks=f.tasks)
        second = FlowRunner(f).run(return_tasks=f.tasks, task_states=first.result)
        assert second.result[later] is first.result[later]
        assert second.result[now].is_successful()
        assert second.is_running()

    def test_the_run_count_goes_on_from_the_given_retrying_state(self) -> None:
        seen: list[Any] = []

        @task(max_retries=3, retry_delay=NOW)
        def count() -> int:
            from weir import context

            seen.append(context.task_run_count)
            raise ValueError("again")

        with Flow("f") as f:
            c = count()
        state = FlowRunner(f).run(task_states={c: Retrying(run_count=2)}, return_tasks=[c])
        assert seen == [3] and type(state.result[c]) is Retrying
        assert state.result[c].run_count == 3

    def test_flow_run_waits_in_process_for_every_retry(self) -> None:
        with Flow("f") as f:
            r = failing_task(datetime.timedelta(seconds=0.1))()
        assert f.run().result[r].result == 2

    def test_flow_run_with_a_runner_class_makes_its_passes_with_it(self) -> None:
        passes: list[int] = []

        class CountingRunner(FlowRunner):
            def run(self, *args: Any, **kwargs: Any) -> State:
                passes.append(1)
                return super().run(*args, **kwargs)

        with Flow("f") as f:
            r = failing_task(datetime.timedelta(seconds=0.1))()
        assert f.run(runner_cls=CountingRunner).result[r].result == 2
        assert passes == [1]

    def test_a_threaded_pass_ends_once_running_tasks_finish(self) -> None:
        with Flow("f") as f:
            r = failing_task(LATER)()
            slow = inc(one())
        state = FlowRunner(f).run(executor=ThreadExecutor(2), return_tasks=[r, slow])
        assert state.is_running() and type(state.result[r]) is Retrying
        assert state.result[slow].result == 2


@task
def numbers() -> list[int]:
    return [1, 2, 3]


class TestMappedChildren:
    def test_given_children_are_kept_and_the_rest_run(self) -> None:
        ran: list[int] = []

        @task
        def double(x: int) -> int:
            ran.append(x)
            return 2 * x

        with Flow("f") as f:
            xs = numbers()
            d = double.map(xs)
        given = Mapped(map_states=[Success(result=20), Pending(), Success(result=60)])
        state = FlowRunner(f).run(
            task_states={xs: Success(result=[1, 2, 3]), d: given}, return_tasks=[d]
        )
        assert state.result[d].result == [20, 4, 60]
        assert ran == [2]

    def test_a_child_retrying_later_leaves_the_parent_mapped_and_the_run_running(self) -> None:
        calls: list[int] = []

        @task(max_retries=1, retry_delay=LATER)
        def flaky(x: int) -> int:
            calls.append(x)
            if x == 2 and calls.count(2) == 1:
                raise ValueError("child 1 fails once")
            return x

        with Flow("f") as f:
            xs = numbers()
            m = flaky.map(xs)
        first = FlowRunner(f).run(return_tasks=[xs, m])
        assert first.is_running()
        children = first.result[m].map_states
        assert type(first.result[m]) is Mapped
        assert [type(c) for c in children] == [Success, Retrying, Success]
        # Later, the child is due: only it runs again.
        children[1].start_time = time.time() - 1
        second = FlowRunner(f).run(task_states=first.result, return_tasks=[m])
        assert second.is_successful() and second.result[m].result == [1, 2, 3]
        assert calls == [1, 2, 3, 2]


class TestRunnerStateHandlers:
    def test_called_with_the_task_runner_for_every_change(self) -> None:
        seen: list[tuple[str, str, str]] = []

        def handler(runner: TaskRunner, old: State, new: State) -> None:
            seen.append((runner.task.name, old.name, new.name))

        f, a, b = chain_flow()
        state = FlowRunner(f).run(task_runner_state_handlers=[handler], return_tasks=[b])
        assert state.is_successful()
        assert seen == [
            ("one", "Pending", "Running"),
            ("one", "Running", "Success"),
            ("inc", "Pending", "Running"),
            ("inc", "Running", "Success"),
        ]

    def test_may_replace_the_state(self) -> None:
        def fail_all(runner: TaskRunner, old: State, new: State) -> State | None:
            return Failed("no") if new.is_successful() else None

        f, a, b = chain_flow()
        state = FlowRunner(f).run(task_runner_state_handlers=[fail_all], return_tasks=[a])
        assert state.is_failed() and state.result[a].message == "no"

    def test_a_later_run_without_them_does_not_call_them(self) -> None:
        seen: list[str] = []
        f, _, _ = chain_flow()
        FlowRunner(f).run(task_runner_state_handlers=[lambda r, o, n: seen.append(n.name)])
        count = len(seen)
        FlowRunner(f).run()
        assert len(seen) == count


class TestPauseAndResume:
    """PAUSE, ``manual_only`` and resuming as in a Prefect 1 local run."""

    def manual_flow(self) -> tuple[Flow, Task, Task]:
        from weir.engine import triggers

        @task(trigger=triggers.manual_only)
        def approve(x: int) -> int:
            return x * 10

        with Flow("f") as f:
            a = one()
            b = approve(a)
            c = inc(b)
        return f, b, c

    def test_a_manual_only_task_pauses_and_the_run_stays_running(self) -> None:
        f, b, c = self.manual_flow()
        state = FlowRunner(f).run(return_tasks=[b, c])
        assert state.is_running()
        assert type(state.result[b]) is Paused and type(state.result[c]) is Pending

    def test_a_paused_task_stays_paused_when_run_again(self) -> None:
        f, b, c = self.manual_flow()
        first = FlowRunner(f).run(return_tasks=f.tasks)
        second = FlowRunner(f).run(task_states=first.result, return_tasks=[b, c])
        assert second.is_running() and type(second.result[b]) is Paused

    def test_resume_runs_the_paused_task_and_what_follows(self) -> None:
        f, b, c = self.manual_flow()
        first = FlowRunner(f).run(return_tasks=f.tasks)
        given = {**first.result, b: Resume()}
        second = FlowRunner(f).run(task_states=given, return_tasks=[b, c])
        assert second.is_successful() and second.result[c].result == 11

    def test_a_pause_whose_time_has_passed_resumes_by_itself(self) -> None:
        f, b, c = self.manual_flow()
        first = FlowRunner(f).run(return_tasks=f.tasks)
        given = {**first.result, b: Paused(start_time=time.time() - 1)}
        assert FlowRunner(f).run(task_states=given, return_tasks=[c]).result[c].result == 11

    def test_context_resume_approves_every_task(self) -> None:
        f, b, c = self.manual_flow()
        state = FlowRunner(f).run(context={"resume": True}, return_tasks=[c])
        assert state.result[c].result == 11

    def test_pause_raised_in_a_task_body(self) -> None:
        from weir import context
        from weir.engine import signals

        @task
        def wait_for_me() -> str:
            if not context.get("resume"):
                raise signals.PAUSE("waiting")
            return "approved"

        with Flow("f") as f:
            w = wait_for_me()
        first = FlowRunner(f).run(return_tasks=[w])
        assert first.is_running() and type(first.result[w]) is Paused
        second = FlowRunner(f).run(task_states={w: Resume()}, return_tasks=[w])
        assert second.result[w].result == "approved"

    def test_paused_mapped_children_resume_one_by_one(self) -> None:
        from weir.engine import triggers

        @task(trigger=triggers.manual_only)
        def gate(x: int) -> int:
            return x

        with Flow("f") as f:
            xs = numbers()
            g = gate.map(xs)
        first = FlowRunner(f).run(return_tasks=f.tasks)
        assert [type(c) for c in first.result[g].map_states] == [Paused] * 3
        given = {**first.result, g: Mapped(map_states=[Resume(), Paused(), Resume()])}
        second = FlowRunner(f).run(task_states=given, return_tasks=[g])
        assert second.is_running()
        assert [type(c) for c in second.result[g].map_states] == [Success, Paused, Success]

    def test_flow_run_without_a_terminal_returns_the_paused_run(self) -> None:
        f, b, c = self.manual_flow()
        state = f.run()
        assert state.is_running() and type(state.result[b]) is Paused


def test_parameters_still_checked() -> None:
    with Flow("f") as f:
        n = Parameter("n")
        r = inc(n)
    with pytest.raises(Exception, match="n"):
        FlowRunner(f).run(return_tasks=[r])


PAUSED_SCRIPT = """
from weir import Flow, task
from weir.engine import triggers

@task
def one():
    return 1

@task(trigger=triggers.manual_only)
def approve(x):
    return x * 10

with Flow("f") as f:
    b = approve(one())
state = f.run()
print("RESULT", state.name, state.result[b].name, state.result[b].result)
"""


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize(
    ("answer", "expected"), [("y", "RESULT Success Success 10"), ("n", "RESULT Running Paused")]
)
def test_flow_run_asks_on_the_terminal_to_resume_a_paused_task(
    tmp_path: Any, answer: str, expected: str
) -> None:
    """Prefect 1's flow.run() asks "enter 'y' to resume" for a Paused task."""
    import os
    import subprocess
    import sys

    script = tmp_path / "paused.py"
    script.write_text(PAUSED_SCRIPT)
    main, secondary = os.openpty()  # stdin a terminal, as where a person runs the flow
    try:
        os.write(main, f"{answer}\n".encode())
        out = subprocess.run(
            [sys.executable, str(script)],
            stdin=secondary,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
    finally:
        os.close(main)
        os.close(secondary)
    assert "is currently Paused; enter 'y' to resume" in out.stdout, out.stderr
    assert expected in out.stdout, out.stdout + out.stderr
