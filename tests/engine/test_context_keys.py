"""weir.context as Prefect 1's ``prefect.context``: a dict with attributes, and every key
a Prefect 1 task reads (documented in Prefect 1's ``prefect.utilities.context``)."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from typing import Any

import pytest

from weir import Flow, FlowRunner, Parameter, context, task, unmapped
from weir.engine.reporter import InMemoryReporter
from weir.engine.state import Failed
from weir.engine.task_runner import TaskRunner
from weir.executors import Executor


class TestDictAccess:
    def test_item_attribute_in_and_get(self) -> None:
        with context(a=1):
            assert context["a"] == context.a == context.get("a") == 1
            assert "a" in context and "b" not in context
            assert context.get("b", 2) == 2
            with pytest.raises(KeyError):
                context["b"]
            assert dict(context)["a"] == 1
            assert context.to_dict()["a"] == 1
            assert list(context.items())[-1] == ("a", 1)

    def test_a_known_key_with_nothing_in_it_reads_as_none(self) -> None:
        assert context["task_name"] is None
        assert context.task_run_name is None
        assert context.get("map_index", "default") == "default"

    def test_context_takes_a_dict_as_well_as_keywords(self) -> None:
        with context({"a": 1, "b": 1}, b=2) as ctx:
            assert (context.a, context.b) == (1, 2)
            assert ctx is context
        assert "a" not in context

    def test_context_refuses_other_positional_arguments(self) -> None:
        with pytest.raises(TypeError, match=r"one dict .* context\(\{'a': 1\}\)"), context(1):
            pass
        with pytest.raises(TypeError, match="one dict"), context({"a": 1}, {"b": 2}):
            pass

    def test_assignment_and_update_last_as_long_as_the_block(self) -> None:
        with context(a=1):
            context.b = 2
            context["c"] = 3
            context.update({"d": 4}, e=5)
            assert context.setdefault("f", 6) == 6
            assert context.setdefault("a", 0) == 1
            assert [context[k] for k in "abcdef"] == [1, 2, 3, 4, 5, 6]
            with context(g=7):
                context.a = 10
                assert context.a == 10
            assert context.a == 1 and "g" not in context
            del context.b
            assert "b" not in context
            with pytest.raises(KeyError, match="was not set in the current context"):
                del context["nothing"]
        assert not any(k in context for k in "abcdef")

    def test_assignment_outside_any_block_lasts_in_its_thread(self) -> None:
        # Prefect 1's context is thread-local; a copied contextvars context stands in for
        # a thread here, so the value does not outlive the test.
        def body() -> tuple[Any, Any]:
            context.x = 1
            with context(y=2):
                inner = (context.x, context.y)
            return inner, context.get("y")

        assert contextvars.copy_context().run(body) == ((1, 2), None)
        assert "x" not in context

    def test_logger_is_there_outside_any_run(self) -> None:
        assert context.get("logger") is logging.getLogger("weir")
        assert context.logger is context["logger"]


@task
def read(keys: list[str], x: Any = None) -> dict[str, Any]:
    return {k: context.get(k) for k in keys}


class TestValuesAroundARun:
    def test_values_set_around_flow_run_reach_its_tasks(self, executor: Executor) -> None:
        with Flow("f") as flow:
            r = read(["x", "y"])
        with context(x=5, y=1):
            state = flow.run(executor=executor, context={"y": 2})
        assert state.result[r].result == {"x": 5, "y": 2}  # given values win

    def test_a_tasks_own_writes_stay_in_its_run(self) -> None:
        @task
        def write() -> Any:
            context.update(mine=1)
            context.other = 2
            return context.mine, context.other

        with Flow("f") as flow:
            w = write()
            r = read(["mine", "other"], upstream_tasks=[w])
        state = flow.run()
        assert state.result[w].result == (1, 2)
        assert state.result[r].result == {"mine": None, "other": None}

    def test_task_runner_run_sees_the_context_it_is_called_in(self) -> None:
        runner = TaskRunner(task(lambda: (context.get("x"), context.get("y"), context.flow_name)))
        with context(x=3, y=1):
            assert runner.run(context={"flow_name": "f", "y": 2}).result == (3, 2, "f")


class TestPrefect1Keys:
    def test_a_task_run_has_every_key(self, executor: Executor) -> None:
        keys = [
            "flow_name",
            "flow_run_id",
            "flow_run_name",
            "parameters",
            "task_name",
            "task_full_name",
            "task_slug",
            "task_tags",
            "task_run_count",
            "task_run_id",
            "date",
            "today",
            "yesterday",
            "tomorrow",
            "today_nodash",
            "yesterday_nodash",
            "tomorrow_nodash",
        ]
        with Flow("keys") as flow:
            r = read(keys, Parameter("p", default=1), task_args={"tags": ["t"]})
        got = flow.run(executor=executor).result[r].result
        assert [k for k in keys if got[k] is None] == []
        assert got["task_full_name"] == got["task_name"] == "read"
        assert got["task_tags"] == {"t"}
        assert got["parameters"] == {"p": 1}
        assert got["flow_run_name"] == f"keys-{got['flow_run_id'].replace('-', '')[:8]}"
        day = got["date"].date()
        assert got["today"] == day.isoformat()
        assert got["yesterday_nodash"] == (day - dt.timedelta(days=1)).strftime("%Y%m%d")
        assert got["tomorrow_nodash"] == (day + dt.timedelta(days=1)).strftime("%Y%m%d")

    def test_mapped_children_have_their_full_name_and_index(self, executor: Executor) -> None:
        @task
        def who(x: int) -> tuple[Any, ...]:
            return context.task_full_name, context.map_index, context.task_name

        with Flow("f") as flow:
            m = who.map([10, 20, 30])
        assert flow.run(executor=executor).result[m].result == [
            ("who[0]", 0, "who"),
            ("who[1]", 1, "who"),
            ("who[2]", 2, "who"),
        ]

    def test_a_given_flow_run_name_wins(self) -> None:
        with Flow("f") as flow:
            r = read(["flow_run_name"])
        state = FlowRunner(flow).run(flow_run_name="nightly", return_tasks=[r])
        assert state.result[r].result == {"flow_run_name": "nightly"}

    def test_context_to_dict_in_a_task_holds_the_keys(self) -> None:
        @task
        def whole() -> dict[str, Any]:
            return context.to_dict()

        with Flow("f") as flow:
            w = whole()
        got = flow.run(context={"mine": 1}).result[w].result
        for key in ("flow_name", "task_full_name", "logger", "today", "tomorrow_nodash", "mine"):
            assert key in got, key


class TestLogger:
    def test_a_tasks_logger_is_its_own(self, shared_memory_executor: Executor) -> None:
        @task
        def talk(x: int | None = None) -> str:
            logger = context.get("logger")
            assert isinstance(logger, logging.Logger)
            assert context.logger is logger  # the same one for the whole task run
            return logger.name

        with Flow("f") as flow:
            one = talk()
            many = talk.map([1, 2])
        state = flow.run(executor=shared_memory_executor)
        assert state.result[one].result == "weir.talk"
        assert state.result[many].result == ["weir.talk[0]", "weir.talk[1]"]
        assert talk.logger is logging.getLogger("weir.talk")

    def test_a_mapped_childs_logger_is_not_kept_by_logging(self) -> None:
        @task
        def talk(x: int) -> None:
            context.logger.info("child %d", x)

        with Flow("f") as flow:
            talk.map([1, 2])
        flow.run()
        assert "weir.talk[0]" not in logging.Logger.manager.loggerDict

    def test_flow_logger(self) -> None:
        flow = Flow("etl")
        assert flow.logger is logging.getLogger("weir.etl")
        custom = logging.getLogger("custom")
        flow.logger = custom
        assert flow.logger is custom


class TestTaskRunName:
    def test_from_a_callable_given_the_inputs(self, executor: Executor) -> None:
        @task(task_run_name=lambda **kw: f"load-{kw['x']}-{kw['day']}")
        def load(x: int, day: str) -> Any:
            return context.task_run_name

        with Flow("f") as flow:
            day = Parameter("day", default="mon")
            r = load(1, day)
            m = load.map([2, 3], day=unmapped(day))
        state = flow.run(executor=executor)
        assert state.result[r].result == "load-1-mon"
        assert state.result[m].result == ["load-2-mon", "load-3-mon"]

    def test_from_a_format_string_of_inputs_parameters_and_context(self) -> None:
        @task(task_run_name="{name}-{x}-{map_index}-{flow_name}")
        def load(x: int) -> Any:
            return context.task_run_name

        with Flow("f") as flow:
            flow.add_task(Parameter("name", default="n"))
            m = load.map([5, 6])
        assert flow.run().result[m].result == ["n-5-0-f", "n-6-1-f"]

    def test_each_name_is_reported_with_its_task_run(self, executor: Executor) -> None:
        # A server keeps it with the task run; from a worker process it is forwarded.
        @task(task_run_name="load-{x}")
        def load(x: int) -> int:
            return x

        reporter = InMemoryReporter()
        with Flow("f") as flow:
            load.map([2, 3])
            read(["task_run_name"])
        flow.run(executor=executor, reporter=reporter)
        assert reporter.task_run_names == {("load-1", 0): "load-2", ("load-1", 1): "load-3"}

    def test_a_task_without_one_has_none(self) -> None:
        with Flow("f") as flow:
            r = read(["task_run_name"])
        assert flow.run().result[r].result == {"task_run_name": None}

    def test_a_name_that_cannot_be_made_fails_the_task_and_says_why(self) -> None:
        @task(task_run_name="run-{missing}")
        def load(x: int) -> int:
            return x

        with Flow("f") as flow:
            r = load(1)
        s = flow.run().result[r]
        assert isinstance(s, Failed)
        assert "Task 'load': its task_run_name 'run-{missing}' could not be made" in s.message
        assert "KeyError('missing')" in s.message and "(x here)" in s.message


class TestDates:
    def test_a_date_given_in_the_context_moves_the_dates(self) -> None:
        keys = ["date", "today", "yesterday", "tomorrow_nodash"]
        with Flow("f") as flow:
            r = read(keys)
        for given in ("2021-03-01T06:00:00Z", dt.datetime(2021, 3, 1, 6, tzinfo=dt.timezone.utc)):
            got = flow.run(context={"date": given}).result[r].result
            assert got["date"] == dt.datetime(2021, 3, 1, 6, tzinfo=dt.timezone.utc)
            assert (got["today"], got["yesterday"], got["tomorrow_nodash"]) == (
                "2021-03-01",
                "2021-02-28",
                "20210302",
            )

    def test_a_date_that_does_not_parse_is_said_and_left_out(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        with Flow("f") as flow:
            r = read(["date"])
        with caplog.at_level(logging.WARNING, logger="weir.FlowRunner"):
            got = flow.run(context={"date": "soon"}).result[r].result
        assert isinstance(got["date"], dt.datetime)
        assert "The context's date 'soon' is not an ISO 8601 date" in caplog.text

    def test_a_given_today_wins(self) -> None:
        # Prefect 1's docs: override the date keys per run, e.g. for backfills.
        with Flow("f") as flow:
            r = read(["today"])
        with context(today="2020-01-01"):
            assert flow.run().result[r].result == {"today": "2020-01-01"}
