"""weir.utilities.tasks and .logging: tags, defaults_from_attrs and get_logger, as in Prefect 1."""

from __future__ import annotations

import logging

import pytest

from weir import Flow, Parameter, Task, tags, task
from weir.utilities.logging import get_logger
from weir.utilities.tasks import defaults_from_attrs


@task
def add(x, y):
    return x + y


class TestTags:
    def test_prefect_1_docstring_example(self):
        with Flow("My Flow"):
            with tags("math", "function"):
                result = add(1, 5)
        assert result.tags == {"function", "math"}

    def test_tasks_made_copied_or_called_inside_get_the_tags(self):
        with tags("made"):
            made = Task(tags=["own"])
            param = Parameter("p")
        assert made.tags == {"made", "own"} and param.tags == {"made"}
        with tags("copied"):
            copied = made.copy()
        assert copied.tags == {"made", "own", "copied"}
        assert made.tags == {"made", "own"}  # the original is untouched
        with Flow("f"), tags("called"):
            called = add(1, 2)
        assert called.tags == {"called"} and add.tags == set()

    def test_blocks_nest_and_end(self):
        with Flow("f"):
            with tags("outer"):
                a = add(1, 2)
                with tags("inner"):
                    b = add(a, 1)
                c = add(b, 1)
            d = add(c, 1)
        assert [t.tags for t in (a, b, c, d)] == [{"outer"}, {"outer", "inner"}, {"outer"}, set()]

    def test_the_tags_reach_the_running_task(self):
        from weir import context

        @task
        def my_tags():
            return context.task_tags

        with Flow("f") as flow, tags("io"):
            t = my_tags()
        assert set(flow.run().result[t].result) == {"io"}

    def test_a_list_instead_of_names_is_refused(self):
        with pytest.raises(TypeError, match=r"tags\('a', 'b'\)"), tags(["a", "b"]):  # type: ignore[arg-type]
            pass


class Template(Task):
    def __init__(self, a=None, b=None, **kwargs):
        self.a = a
        self.b = b
        super().__init__(**kwargs)

    @defaults_from_attrs("a", "b")
    def run(self, a=None, b=None):
        return a, b


class TestDefaultsFromAttrs:
    def test_prefect_1_docstring_example(self):
        t = Template(a=1, b=2)
        assert t.run() == (1, 2)
        assert t.run(a=99) == (99, 2)
        assert t.run(a=None, b=None) == (None, None)

    def test_in_a_flow_only_the_given_arguments_override(self):
        t = Template(a=1, b=2)
        with Flow("f") as flow:
            both = t()
            one = t(b="given")
            none = t(a=None)
        state = flow.run()
        assert state.result[both].result == (1, 2)
        assert state.result[one].result == (1, "given")
        assert state.result[none].result == (None, 2)

    def test_run_keeps_its_signature_for_the_binder(self):
        with Flow("f"), pytest.raises(ValueError, match="unexpected keyword argument 'c'"):
            Template()(c=1)

    def test_names_must_be_strings(self):
        with pytest.raises(TypeError, match="attribute names as strings"):
            defaults_from_attrs(["a"])  # type: ignore[arg-type]


def test_get_logger_is_the_weir_logger_or_a_child():
    assert get_logger() is logging.getLogger("weir")
    assert get_logger("etl") is logging.getLogger("weir.etl")
    assert get_logger("etl").getEffectiveLevel() == logging.INFO


def test_get_logger_records_reach_the_run_log():
    @task
    def log_something():
        get_logger("mine").info("hello from a task")

    with Flow("logs") as flow:
        t = log_something()
    from weir.engine.flow_runner import FlowRunner
    from weir.engine.reporter import InMemoryReporter

    reporter = InMemoryReporter()
    FlowRunner(flow, reporter=reporter).run()
    assert (flow.slugs[t], None) in {(slug, index) for slug, index, _ in reporter.logs}
    assert "hello from a task" in [record["message"] for _, _, record in reporter.logs]


class Greet(Task):
    def run(self, who):
        self.logger.info("hello %s", who)
        return who


def test_a_task_class_logs_through_self_logger_as_in_prefect_1():
    greet = Greet(name="greet")
    assert greet.logger is logging.getLogger("weir.greet")
    with Flow("logs") as flow:
        t = greet("world")
    from weir.engine.flow_runner import FlowRunner
    from weir.engine.reporter import InMemoryReporter

    reporter = InMemoryReporter()
    FlowRunner(flow, reporter=reporter).run()
    assert (flow.slugs[t], None, "hello world") in {
        (slug, index, record["message"]) for slug, index, record in reporter.logs
    }


def test_self_logger_can_be_replaced():
    custom = logging.getLogger("custom")
    greet = Greet()
    greet.logger = custom
    assert greet.logger is custom and greet.copy().logger is custom
