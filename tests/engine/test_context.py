"""weir.context: what a running task knows, and where its log records go."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import pytest

from weir import Flow, Parameter, context, task
from weir.engine.reporter import InMemoryReporter
from weir.executors import Executor


@task
def snapshot(x: Any = None) -> dict[str, Any]:
    return {
        "flow_name": context.flow_name,
        "flow_run_id": context.flow_run_id,
        "task_name": context.task_name,
        "task_slug": context.task_slug,
        "task_run_id": context.task_run_id,
        "task_run_count": context.task_run_count,
        "map_index": context.map_index,
        "parameters": context.parameters,
        "scheduled_start_time": context.scheduled_start_time,
        "today": context.today,
        "yesterday": context.yesterday,
        "tomorrow": context.tomorrow,
        "today_nodash": context.today_nodash,
        "task_tags": context.task_tags,
    }


class TestContextInTasks:
    def test_flow_and_task_values(self, executor: Executor) -> None:
        with Flow("ctx-flow") as flow:
            p = Parameter("p", default=1)
            s = snapshot(p, task_args={"tags": ["t1"]})
        state = flow.run(parameters={"p": 7}, executor=executor)
        got = state.result[s].result
        assert got["flow_name"] == "ctx-flow"
        assert isinstance(got["flow_run_id"], str) and got["flow_run_id"]
        assert got["task_name"] == "snapshot"
        assert got["task_slug"] == "snapshot-1"
        assert got["task_run_count"] == 1
        assert got["map_index"] is None
        assert got["parameters"] == {"p": 7}
        assert got["task_tags"] == {"t1"}

    def test_task_run_id_is_set_and_unique_per_task_run(self, executor: Executor) -> None:
        with Flow("f") as flow:
            a = snapshot()
            b = snapshot()
            m = snapshot.map([1, 2])
        state = flow.run(executor=executor)
        ids = [state.result[a].result["task_run_id"], state.result[b].result["task_run_id"]]
        ids += [r["task_run_id"] for r in state.result[m].result]
        assert all(isinstance(i, str) and i for i in ids)
        assert len(set(ids)) == 4
        again = flow.run(executor=executor).result[a].result["task_run_id"]
        assert again not in ids  # another flow run, other task runs

    def test_task_run_id_stays_the_same_across_retries(self, executor: Executor) -> None:
        @task(max_retries=1, retry_delay=0.01)
        def flaky() -> None:
            context.get_logger().info(
                "attempt %s id %s", context.task_run_count, context.task_run_id
            )
            if context.task_run_count == 1:
                raise RuntimeError("once")

        reporter = InMemoryReporter()
        with Flow("f") as flow:
            flaky()
        flow.run(executor=executor, reporter=reporter)
        seen = [
            r["message"].split() for _, _, r in reporter.logs if r["message"].startswith("attempt")
        ]
        assert [words[1] for words in seen] == ["1", "2"]
        assert seen[0][3] == seen[1][3] != "None"

    def test_map_index(self, executor: Executor) -> None:
        with Flow("f") as flow:
            m = snapshot.map([10, 20, 30])
        state = flow.run(executor=executor)
        assert [r["map_index"] for r in state.result[m].result] == [0, 1, 2]

    def test_scheduled_start_time_falls_back_to_the_run_start(self, executor: Executor) -> None:
        before = dt.datetime.now(dt.timezone.utc)
        with Flow("f") as flow:
            a = snapshot()
            b = snapshot(a)
        state = flow.run(executor=executor)
        after = dt.datetime.now(dt.timezone.utc)
        start_a = state.result[a].result["scheduled_start_time"]
        start_b = state.result[b].result["scheduled_start_time"]
        assert isinstance(start_a, dt.datetime) and start_a.tzinfo is not None
        assert before <= start_a <= after
        assert start_a == start_b  # one value for the whole run

    def test_dates_follow_the_scheduled_start_time(self) -> None:
        from weir import FlowRunner

        with Flow("f") as flow:
            a = snapshot()
        when = dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone.utc)
        state = FlowRunner(flow).run(scheduled_start_time=when, return_tasks=[a])
        got = state.result[a].result
        assert got["scheduled_start_time"] == when
        assert got["today"] == "2024-03-01"
        assert got["yesterday"] == "2024-02-29"
        assert got["tomorrow"] == "2024-03-02"
        assert got["today_nodash"] == "20240301"

    def test_today_without_a_schedule(self, executor: Executor) -> None:
        with Flow("f") as flow:
            a = snapshot()
        got = flow.run(executor=executor).result[a].result
        assert got["today"] == got["scheduled_start_time"].date().isoformat()

    def test_run_context_values(self, executor: Executor) -> None:
        @task
        def read() -> Any:
            return context.get("greeting"), context.get("missing", "default")

        with Flow("f") as flow:
            r = read()
        state = flow.run(executor=executor, context={"greeting": "hi"})
        assert state.result[r].result == ("hi", "default")

    def test_context_block_inside_a_task(self) -> None:
        @task
        def nested() -> Any:
            with context(extra=5):
                inner = (context.extra, context.task_name)
            return inner, context.get("extra")

        with Flow("f") as flow:
            n = nested()
        assert flow.run().result[n].result == ((5, "nested"), None)


class TestContextOutsideRuns:
    def test_known_keys_are_none(self) -> None:
        assert context.flow_name is None
        assert context.task_name is None
        assert context.get("task_run_count") is None
        assert context.to_dict() == {}

    def test_unknown_key_says_to_use_get(self) -> None:
        with pytest.raises(AttributeError, match=r"no value 'nope'.*context.get\('nope'"):
            context.nope  # noqa: B018

    def test_context_block(self) -> None:
        with context(a=1, b=2):
            assert context.a == 1
            assert context.get("b") == 2
            assert "a" in context
            with context(a=3):
                assert context.a == 3
            assert context.a == 1
        assert "a" not in context

    def test_context_blocks_do_not_leak_across_threads(self) -> None:
        seen: list[Any] = []
        with context(a=1):
            t = threading.Thread(target=lambda: seen.append(context.get("a")))
            t.start()
            t.join()
        assert seen == [None]


class TestLogger:
    def test_records_carry_task_and_flow(self, shared_memory_executor: Executor) -> None:
        executor = shared_memory_executor
        captured: list[logging.LogRecord] = []

        class Capture(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                captured.append(record)

        handler = Capture()
        logger = logging.getLogger("weir.task_run")
        logger.addHandler(handler)
        try:

            @task
            def talk(x: int) -> None:
                context.get_logger().info("hello %s", x)

            with Flow("logs") as flow:
                talk(1)
                talk.map([2, 3])
            state = flow.run(executor=executor)
        finally:
            logger.removeHandler(handler)
        ours = [r for r in captured if r.getMessage().startswith("hello")]
        assert sorted(r.getMessage() for r in ours) == ["hello 1", "hello 2", "hello 3"]
        for r in ours:
            assert r.flow_name == "logs"  # type: ignore[attr-defined]
            assert r.task_name == "talk"  # type: ignore[attr-defined]
            assert r.flow_run_id  # type: ignore[attr-defined]
            assert r.task_run_id  # type: ignore[attr-defined]
        assert sorted(r.map_index for r in ours if r.map_index is not None) == [0, 1]  # type: ignore[attr-defined]
        assert isinstance(state.result, dict)

    def test_records_reach_the_reporter(self, executor: Executor) -> None:
        @task
        def talk() -> None:
            context.get_logger().warning("careful")
            logging.getLogger("some.library").error("from a library")

        reporter = InMemoryReporter()
        with Flow("logs") as flow:
            t = talk()
        flow.run(executor=executor, reporter=reporter)
        mine = [(slug, k, r["message"], r["level"]) for slug, k, r in reporter.logs]
        slug = flow.slugs[t]
        assert (slug, None, "careful", logging.WARNING) in mine
        assert (slug, None, "from a library", logging.ERROR) in mine

    def test_task_errors_are_logged_with_the_traceback(self, executor: Executor) -> None:
        @task
        def boom() -> None:
            raise ValueError("kaboom")

        reporter = InMemoryReporter()
        with Flow("logs") as flow:
            boom()
        flow.run(executor=executor, reporter=reporter)
        messages = [r["message"] for _, _, r in reporter.logs]
        assert any("kaboom" in m and "Traceback" in m for m in messages)

    def test_log_stdout_sends_prints_to_the_reporter(self, executor: Executor) -> None:
        @task(log_stdout=True)
        def chatty(x: int) -> int:
            print(f"working on {x}")
            return x

        @task
        def quiet() -> None:
            print("not captured")

        reporter = InMemoryReporter()
        with Flow("logs") as flow:
            c = chatty(1)
            quiet()
        flow.run(executor=executor, reporter=reporter)
        got = [(slug, r["message"]) for slug, _, r in reporter.logs]
        assert (flow.slugs[c], "working on 1") in got
        assert all(m != "not captured" for _, m in got)

    def test_log_stdout_takes_only_its_own_tasks_prints_while_others_print(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from weir.executors import ThreadExecutor

        # Both tasks print while the other is running: the captured one holds its
        # capture open until the other has printed.
        printed, done = threading.Event(), threading.Event()

        @task(log_stdout=True)
        def chatty() -> None:
            print("mine")
            assert printed.wait(10)
            print("mine too")
            done.set()

        @task
        def quiet() -> None:
            print("not captured")
            printed.set()
            assert done.wait(10)

        reporter = InMemoryReporter()
        with Flow("logs") as flow:
            c = chatty()
            quiet()
        state = flow.run(executor=ThreadExecutor(max_workers=2), reporter=reporter)
        assert state.is_successful()
        got = [(slug, r["message"]) for slug, _, r in reporter.logs]
        assert [m for slug, m in got if slug == flow.slugs[c]] == ["mine", "mine too"]
        assert all(m != "not captured" for _, m in got)
        assert "not captured" in capsys.readouterr().out

    def test_records_outside_runs_are_not_captured(self) -> None:
        reporter = InMemoryReporter()
        with Flow("f") as flow:
            snapshot()
        flow.run(reporter=reporter)
        count = len(reporter.logs)
        logging.getLogger("weir.task_run").warning("outside any run")
        assert len(reporter.logs) == count
