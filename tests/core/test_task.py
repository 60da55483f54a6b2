"""weir.core.task: Task subclasses, @task, task options, Parameter, indexing and nout."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Any

import pytest

from weir import Flow, Parameter, Task, task
from weir.core.task import FunctionTask
from weir.engine import triggers
from weir.engine.cache_validators import all_inputs
from weir.engine.results import LocalResult
from weir.exceptions import (
    FlowValidationError,
    TaskCallError,
)


class Multiply(Task):
    """A Task written the class way."""

    def __init__(self, factor: int = 2, **kwargs: Any) -> None:
        self.factor = factor
        super().__init__(**kwargs)

    def run(self, x: int, offset: int = 0) -> int:
        return x * self.factor + offset


class TestTaskSubclass:
    def test_run_is_the_override_and_name_defaults_to_the_class(self) -> None:
        t = Multiply(factor=3)
        assert t.run(2, offset=1) == 7
        assert t.name == "Multiply"

    def test_signature_of_run_drives_binding(self) -> None:
        with Flow("f") as flow:
            m = Multiply()(x=5)
        assert flow.constants[m] == {"x": 5}

    def test_subclass_runs_in_a_flow(self) -> None:
        with Flow("f") as flow:
            m = Multiply(factor=10)(4, offset=2)
        state = flow.run()
        assert state.result[m].result == 42

    def test_base_task_runs_as_a_no_op_returning_none(self) -> None:
        # Prefect 1's Task.run does nothing: a bare Task() is a placeholder.
        assert Task(name="empty").run() is None
        with Flow("f") as flow:
            t = Task(name="empty")()
        state = flow.run()
        assert state.is_successful() and state.result[t].result is None


def add(x: int, y: int = 1) -> int:
    """Add y to x."""
    return x + y


class TestTaskDecorator:
    def test_bare_decorator_keeps_signature_and_docstring(self) -> None:
        t = task(add)
        assert isinstance(t, FunctionTask)
        assert inspect.signature(t) == inspect.signature(add)
        assert t.__doc__ == "Add y to x."
        assert t.name == "add"
        assert t.run(1, 2) == 3

    def test_decorator_with_arguments_keeps_signature_and_docstring(self) -> None:
        t = task(name="adder", max_retries=2, retry_delay=0.1)(add)
        assert inspect.signature(t) == inspect.signature(add)
        assert t.__doc__ == "Add y to x."
        assert t.name == "adder"
        assert t.max_retries == 2

    def test_decorated_function_keeps_its_module_and_wrapped(self) -> None:
        t = task(add)
        assert t.__wrapped__ is add
        assert t.__module__ == add.__module__

    def test_calling_binds_a_copy_and_leaves_the_original_unbound(self) -> None:
        t = task(add)
        with Flow("f") as flow:
            a = t(1)
            b = t(2)
        assert a is not t and b is not t and a is not b
        assert t not in flow.tasks
        assert flow.tasks == {a, b}
        assert flow.constants[a] == {"x": 1}
        assert flow.constants[b] == {"x": 2}

    def test_not_a_function_is_refused(self) -> None:
        with pytest.raises(TypeError, match="needs a function"):
            task(42)  # type: ignore[call-overload]

    def test_star_args_are_refused_with_the_fix(self) -> None:
        def spread(*items: int) -> int:
            return sum(items)

        with pytest.raises(FlowValidationError, match=r"spread.*\*items.*list argument"):
            task(spread)

    def test_reserved_argument_names_are_refused(self) -> None:
        def clash(upstream_tasks: list[int]) -> int:
            return 0

        with pytest.raises(FlowValidationError, match=r"'clash'.*'upstream_tasks'.*Rename"):
            task(clash)

    def test_kwargs_functions_accept_any_keyword(self) -> None:
        @task
        def collect(**values: int) -> dict[str, int]:
            return values

        with Flow("f") as flow:
            c = collect(a=1, b=2)
        assert flow.constants[c] == {"a": 1, "b": 2}
        assert flow.run().result[c].result == {"a": 1, "b": 2}


def _handler(task: Task, old: Any, new: Any) -> None:
    return None


def _target(**kwargs: Any) -> str:
    return "x"


# Every documented option, with a value that is not its default, and how it reads back.
OPTIONS: list[tuple[str, Any, str, Any]] = [
    ("name", "renamed", "name", "renamed"),
    ("max_retries", 3, "max_retries", 3),
    ("retry_delay", dt.timedelta(seconds=2), "retry_delay_s", 2.0),
    ("retry_delay", 0.5, "retry_delay_s", 0.5),
    ("timeout", 5, "timeout_s", 5.0),
    ("timeout", dt.timedelta(minutes=1), "timeout_s", 60.0),
    ("trigger", triggers.all_finished, "trigger", triggers.all_finished),
    ("skip_on_upstream_skip", False, "skip_on_upstream_skip", False),
    ("cache_for", dt.timedelta(hours=1), "cache_for_s", 3600.0),
    (
        "cache_validator",
        all_inputs,
        "cache_validator",
        all_inputs,
    ),
    ("cache_key", "shared-key", "cache_key", "shared-key"),
    ("checkpoint", True, "checkpoint", True),
    ("target", "out/{task_name}.txt", "target", "out/{task_name}.txt"),
    ("target", _target, "target", _target),
    ("state_handlers", [_handler], "state_handlers", [_handler]),
    ("tags", ["io", "db"], "tags", {"io", "db"}),
    ("log_stdout", True, "log_stdout", True),
    ("nout", 2, "nout", 2),
]


class TestTaskOptions:
    @pytest.mark.parametrize(
        ("option", "value", "attribute", "expected"),
        OPTIONS,
        ids=[f"{o[0]}-{type(o[1]).__name__}" for o in OPTIONS],
    )
    def test_option_is_kept_on_the_task_and_its_copies(
        self, option: str, value: Any, attribute: str, expected: Any
    ) -> None:
        kwargs = {option: value}
        if option == "max_retries":
            kwargs["retry_delay"] = 0.1
        t = task(**kwargs)(add)
        assert getattr(t, attribute) == expected
        with Flow("f"):
            bound = t(1)
        assert getattr(bound, attribute) == expected

    @pytest.mark.parametrize(
        ("option", "value", "attribute", "expected"),
        OPTIONS,
        ids=[f"{o[0]}-{type(o[1]).__name__}" for o in OPTIONS],
    )
    def test_option_can_be_changed_per_call_with_task_args(
        self, option: str, value: Any, attribute: str, expected: Any
    ) -> None:
        t = task(add)
        task_args = {option: value}
        if option == "max_retries":
            task_args["retry_delay"] = 0.1
        with Flow("f"):
            bound = t(1, task_args=task_args)
        assert getattr(bound, attribute) == expected
        assert getattr(t, attribute) != expected  # the original is untouched

    def test_result_option(self, tmp_path: Any) -> None:
        result = LocalResult(dir=str(tmp_path))
        t = task(result=result)(add)
        assert t.result is result

    def test_defaults_match_prefect_1(self) -> None:
        t = task(add)
        assert t.max_retries == 0
        assert t.retry_delay is None and t.timeout is None
        assert t.trigger is None  # the runner uses all_successful
        assert t.skip_on_upstream_skip is True
        assert t.cache_for is None and t.cache_key is None and t.cache_validator is None
        assert t.checkpoint is None and t.result is None and t.target is None
        assert t.state_handlers == [] and t.tags == set()
        assert t.log_stdout is False and t.nout is None

    def test_unknown_task_args_name_the_task_and_the_options(self) -> None:
        with pytest.raises(FlowValidationError, match=r"'add'.*unknown task_args.*'retries'"):
            with Flow("f"):
                task(add)(1, task_args={"retries": 3})

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"max_retries": -1}, r"'add': max_retries must be 0 or more"),
            ({"max_retries": 2}, r"'add': max_retries=2 needs a retry_delay"),
            ({"timeout": 0}, r"'add': timeout must be more than 0"),
            ({"timeout": -1}, r"'add': timeout must not be negative"),
            ({"timeout": "10s"}, r"'add': timeout must be a number of seconds or a .*timedelta"),
            ({"retry_delay": -0.5}, r"'add': retry_delay must not be negative"),
            ({"trigger": "all_successful"}, r"'add': trigger must be a function"),
            ({"cache_validator": 3}, r"'add': cache_validator must be callable"),
            ({"state_handlers": [1]}, r"'add': every state handler must be callable"),
            ({"nout": -1}, r"'add': nout must be an int, 0 or more"),
        ],
    )
    def test_bad_options_fail_at_creation_naming_the_task(
        self, kwargs: dict[str, Any], match: str
    ) -> None:
        with pytest.raises(FlowValidationError, match=match):
            task(**kwargs)(add)

    def test_a_single_string_is_one_tag(self) -> None:
        assert task(tags="io")(add).tags == {"io"}
        with Flow("f"):
            bound = task(add)(1, task_args={"tags": "db"})
        assert bound.tags == {"db"}

    def test_one_bare_state_handler_says_to_wrap_it(self) -> None:
        with pytest.raises(FlowValidationError, match=r"'add'.*state_handlers=\[handler\]"):
            task(state_handlers=_handler)(add)
        with pytest.raises(FlowValidationError, match=r"Flow 'f'.*state_handlers=\[handler\]"):
            Flow("f", state_handlers=_handler)  # type: ignore[arg-type]

    def test_tags_of_copies_are_independent(self) -> None:
        t = task(tags=["a"])(add)
        c = t.copy()
        c.tags.add("b")
        assert t.tags == {"a"}


class TestParameter:
    def test_default_makes_it_optional(self) -> None:
        p = Parameter("x", default=3)
        assert p.name == "x" and p.default == 3 and p.required is False

    def test_no_default_makes_it_required(self) -> None:
        p = Parameter("x")
        assert p.required is True and p.default is None

    def test_required_with_default(self) -> None:
        p = Parameter("x", default=1, required=True)
        assert p.required is True and p.default == 1

    def test_none_is_a_real_default(self) -> None:
        p = Parameter("x", default=None)
        assert p.required is False

    def test_slug_is_its_name(self) -> None:
        with Flow("f") as flow:
            p = Parameter("x", default=1)
            task(add)(p)
        assert flow.slugs[p] == "x"

    def test_empty_name_is_refused(self) -> None:
        with pytest.raises(FlowValidationError, match="non-empty string name"):
            Parameter("")

    def test_calling_a_parameter_adds_it_to_the_flow(self) -> None:
        # Prefect 1: Parameter.__call__(flow=None) adds it and returns the Parameter itself.
        p = Parameter("x", default=2)
        with Flow("f") as flow:
            assert p() is p
        assert flow.parameters() == {p}
        other = Flow("g")
        assert p(flow=other) is p and other.parameters() == {p}

    def test_calling_a_parameter_with_arguments_says_to_pass_it_instead(self) -> None:
        p = Parameter("x")
        with Flow("f"):
            with pytest.raises(TaskCallError, match=r"'x' takes no arguments.*pass the Parameter"):
                p(5)

    def test_copy_takes_a_new_name_which_is_also_its_slug(self) -> None:
        x = Parameter("x", default=1, tags=["p"])
        y = x.copy("y")
        assert isinstance(y, Parameter)
        assert (y.name, y.slug, y.default, y.required, y.tags) == ("y", "y", 1, False, {"p"})
        assert (x.name, x.slug) == ("x", "x")
        z = x.copy("z", default=5)
        assert z.default == 5 and x.default == 1
        with Flow("f") as flow:
            a = task(add)(x, y)
        assert flow.slugs[y] == "y"
        assert flow.run(parameters={"y": 10}).result[a].result == 11

    def test_copy_needs_a_name(self) -> None:
        with pytest.raises(TypeError):
            Parameter("x").copy()  # type: ignore[call-arg]

    def test_values_reach_tasks(self) -> None:
        with Flow("f") as flow:
            x = Parameter("x", default=1)
            a = task(add)(x, y=10)
        assert flow.run().result[a].result == 11
        assert flow.run(parameters={"x": 5}).result[a].result == 15


class TestConstants:
    def test_non_task_arguments_are_constants_not_tasks(self) -> None:
        with Flow("f") as flow:
            a = task(add)(1, y=[1, 2])
        assert flow.tasks == {a}
        assert flow.constants[a] == {"x": 1, "y": [1, 2]}
        assert flow.edges == set()

    def test_constants_reach_the_function(self) -> None:
        with Flow("f") as flow:
            a = task(add)(40, 2)
        assert flow.run().result[a].result == 42


class TestGetItemAndNout:
    def test_indexing_a_task_makes_a_getitem_task(self) -> None:
        @task
        def pair() -> dict[str, int]:
            return {"a": 1, "b": 2}

        with Flow("f") as flow:
            p = pair()
            b = p["b"]
        assert b in flow.tasks
        assert flow.upstream_tasks(b) == {p}
        assert flow.constants[b] == {"key": "b"}
        assert flow.run().result[b].result == 2

    def test_nout_unpacks_into_one_task_per_item(self) -> None:
        @task(nout=2)
        def two() -> tuple[int, int]:
            return 3, 4

        with Flow("f") as flow:
            a, b = two()
            s = task(add)(a, b)
        assert len(flow.upstream_tasks(s)) == 2
        state = flow.run()
        assert state.result[a].result == 3
        assert state.result[b].result == 4
        assert state.result[s].result == 7

    def test_unpacking_without_nout_says_how(self) -> None:
        @task
        def two() -> list[int]:
            return [3, 4]

        with Flow("f"):
            t = two()
            with pytest.raises(TypeError, match=r"'two' is not iterable.*nout=N.*two\[0\]"):
                a, b = t

    def test_task_used_outside_a_flow_says_where(self) -> None:
        with pytest.raises(FlowValidationError, match=r"'add' was used outside a flow"):
            task(add)(1)


class TestSetDependenciesOnTheTask:
    """Prefect 1's ``task.set_dependencies(...)``, the imperative call on the task itself."""

    def test_in_the_active_flow(self) -> None:
        @task
        def a() -> int:
            return 1

        @task
        def b(x: int) -> int:
            return x + 1

        with Flow("f") as flow:
            first = a()
            second = b.copy()
            assert second.set_dependencies(keyword_tasks={"x": first}) is second
            last = a.copy()
            last.set_dependencies(upstream_tasks=[second])
        assert flow.upstream_tasks(second) == {first} and flow.upstream_tasks(last) == {second}
        assert flow.run().result[second].result == 2

    def test_with_an_explicit_flow_and_outside_any(self) -> None:
        flow = Flow("imperative")
        t = Task(name="t")
        u = Task(name="u")
        t.set_dependencies(flow=flow, downstream_tasks=[u])
        assert flow.downstream_tasks(t) == {u}
        with pytest.raises(FlowValidationError, match="was used outside a flow"):
            Task(name="lonely").set_dependencies(upstream_tasks=[t])
