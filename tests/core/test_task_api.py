"""Task options and errors that follow Prefect 1: retry_on, nout from the return
annotation, Task.copy, a bare Task, and the built-in error types (TypeError,
ValueError, AttributeError) that weir's own errors also are."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

import pytest

from weir import Flow, Parameter, Task, case, task
from weir.exceptions import (
    FlowTypeError,
    FlowValidationError,
    TaskArgsError,
    TaskCallError,
)

NO_DELAY = dt.timedelta(0)


@task
def add(x: int, y: int) -> int:
    return x + y


class TestRetryOn:
    def test_one_class_or_many_become_a_set(self) -> None:
        one = Task(max_retries=1, retry_delay=NO_DELAY, retry_on=KeyError)
        many = Task(max_retries=1, retry_delay=NO_DELAY, retry_on=[KeyError, OSError])
        assert one.retry_on == {KeyError}
        assert many.retry_on == {KeyError, OSError}

    def test_unset_is_none(self) -> None:
        assert Task().retry_on is None
        assert Task(retry_on=[]).retry_on is None

    def test_needs_max_retries(self) -> None:
        with pytest.raises(FlowValidationError, match=r"'t': retry_on needs max_retries") as err:
            Task(name="t", retry_on=KeyError)
        assert isinstance(err.value, ValueError)

    @pytest.mark.parametrize("bad", [KeyError(), [KeyError, "OSError"], int])
    def test_only_exception_classes(self, bad: Any) -> None:
        with pytest.raises(FlowTypeError, match=r"'t': retry_on takes exception classes") as err:
            Task(name="t", max_retries=1, retry_delay=NO_DELAY, retry_on=bad)
        assert isinstance(err.value, TypeError)

    def test_given_per_call_with_task_args(self) -> None:
        t = task(max_retries=2, retry_delay=NO_DELAY)(lambda: 1)
        with Flow("f"):
            c = t(task_args={"retry_on": ValueError})
        assert c.retry_on == {ValueError} and t.retry_on is None

    def test_copy_refuses_retry_on_without_retries(self) -> None:
        with pytest.raises(FlowValidationError, match="retry_on needs max_retries"):
            Task().copy(retry_on=KeyError)


class TestNoutFromTheReturnAnnotation:
    @pytest.mark.parametrize(
        ("annotation", "nout"),
        [
            (typing.Tuple[int, int], 2),  # noqa: UP006 (Prefect 1's spelling)
            (tuple[int, str, float], 3),
            (tuple[int], 1),
            (typing.Tuple[()], 0),  # noqa: UP006
            (tuple[int, ...], None),
            (typing.Tuple, None),  # noqa: UP006
            (tuple, None),
            (list[int], None),
            (int, None),
        ],
    )
    def test_inferred_as_prefect_1_does(self, annotation: Any, nout: int | None) -> None:
        def fn() -> Any:
            return ()

        fn.__annotations__["return"] = annotation
        assert task(fn).nout == nout

    def test_string_annotation_is_read(self) -> None:
        # This module uses `from __future__ import annotations`: the annotation is a string.
        @task
        def pair() -> tuple[int, int]:
            return 1, 2

        assert pair.nout == 2

    def test_unknown_name_in_a_string_annotation_infers_nothing(self) -> None:
        def fn() -> Any:
            return 1, 2

        fn.__annotations__["return"] = "tuple[Missing, int]"
        assert task(fn).nout is None

    def test_explicit_nout_wins(self) -> None:
        @task(nout=3)
        def three() -> tuple[int, int]:
            return 1, 2

        assert three.nout == 3

    def test_class_task_run_annotation(self) -> None:
        class Split(Task):
            def run(self, x: int) -> typing.Tuple[int, int]:  # noqa: UP006
                return divmod(x, 2)

        with Flow("f") as flow:
            q, r = Split()(7)
        state = flow.run()
        assert (state.result[q].result, state.result[r].result) == (3, 1)

    def test_a_mapped_copy_has_no_nout(self) -> None:
        @task
        def pair(x: int) -> tuple[int, int]:
            return x, x

        with Flow("f"):
            m = pair.map([1, 2])
        assert m.nout is None and pair.nout == 2


class TestCopy:
    def test_tags_are_added_to_the_originals(self) -> None:
        a = Task(name="a", tags=["x"])
        b = a.copy(name="b", tags=["y"])
        assert (b.name, b.tags) == ("b", {"x", "y"})
        assert (a.name, a.tags) == ("a", {"x"})

    def test_any_attribute_of_the_task_can_be_set(self) -> None:
        class Greet(Task):
            def __init__(self, greeting: str = "hi", **kwargs: Any) -> None:
                self.greeting = greeting
                super().__init__(**kwargs)

            def run(self, who: str) -> str:
                return f"{self.greeting} {who}"

        g = Greet()
        assert g.copy(greeting="hello").greeting == "hello"
        with Flow("f") as flow:
            a = g("ann")
            b = g("bob", task_args={"greeting": "hello"})
        state = flow.run()
        assert state.result[a].result == "hi ann"
        assert state.result[b].result == "hello bob"

    def test_an_unknown_attribute_is_an_attribute_error(self) -> None:
        with pytest.raises(TaskArgsError, match=r"'add': unknown task_args \['retries'\]") as err:
            add.copy(retries=3)
        assert isinstance(err.value, AttributeError)
        assert isinstance(err.value, FlowValidationError)

    def test_options_are_checked_again(self) -> None:
        with pytest.raises(FlowTypeError, match=r"'add': timeout must be a number"):
            add.copy(timeout="10")


class TestBareTask:
    def test_runs_and_returns_none(self) -> None:
        @task
        def one() -> int:
            return 1

        with Flow("f") as flow:
            a = one()
            done = Task(name="done")(upstream_tasks=[a])
        state = flow.run()
        assert state.is_successful()
        assert state.result[done].result is None


class TestCallErrorsAreTypeErrors:
    def test_too_many_positionals(self) -> None:
        with Flow("f"):
            with pytest.raises(TypeError, match=r"'add': too many positional"):
                add(1, 2, 3)

    def test_unknown_keyword(self) -> None:
        with Flow("f"):
            with pytest.raises(TypeError, match=r"'add': got an unexpected keyword.*'z'"):
                add(1, 2, z=3)

    def test_missing_argument(self) -> None:
        with Flow("f"):
            with pytest.raises(TypeError, match=r"'add': missing a required argument: 'y'"):
                add(1)

    def test_missing_argument_of_a_mapped_call(self) -> None:
        with Flow("f"):
            with pytest.raises(TaskCallError, match=r"'add': missing"):
                add.map([1, 2])

    def test_unknown_key_through_add_edge(self) -> None:
        flow = Flow("f")
        with pytest.raises(TypeError, match=r"'add' got an unexpected argument 'z'"):
            flow.add_edge(Task(), add.copy(), key="z")

    def test_missing_argument_of_an_imperative_task_at_the_end_of_the_block(self) -> None:
        with pytest.raises(TaskCallError, match=r"'add' \(add-1\) is missing"):
            with Flow("f") as flow:
                flow.add_task(add.copy())

    def test_positional_only_run_argument(self) -> None:
        def pos(x: int, /) -> int:
            return x

        with pytest.raises(TypeError, match=r"positional-only"):
            task(pos)

    def test_the_errors_are_still_flow_validation_errors(self) -> None:
        with Flow("f"):
            with pytest.raises(FlowValidationError):
                add(1, 2, 3)


class TestOtherTypeErrors:
    def test_non_task_given_to_add_task(self) -> None:
        with pytest.raises(TypeError, match=r"add_task needs a Task, got int"):
            Flow("f").add_task(3)  # type: ignore[arg-type]

    @pytest.mark.parametrize("timeout", ["10", [1], True])
    def test_timeout_that_is_not_a_duration(self, timeout: Any) -> None:
        with pytest.raises(TypeError, match=r"timeout must be a number of seconds"):
            Task(timeout=timeout)

    def test_integer_and_timedelta_timeouts_are_accepted(self) -> None:
        assert Task(timeout=10).timeout_s == 10.0
        assert Task(timeout=dt.timedelta(minutes=1)).timeout_s == 60.0

    def test_a_task_as_a_case_value(self) -> None:
        with Flow("f"):
            cond = Task()()
            with pytest.raises(TypeError, match="value must be a constant"):
                case(cond, Task())

    @pytest.mark.parametrize("value", [5, None, {1, 2}, (i for i in range(2))])
    def test_mapping_over_a_positional_constant_that_cannot_be_indexed(self, value: Any) -> None:
        with Flow("f"):
            with pytest.raises(TypeError, match=r"'add': cannot map over .*cannot be indexed"):
                add.map(value, [1])

    def test_mapping_over_indexable_constants_and_tasks_is_accepted(self) -> None:
        @task
        def ident(x: Any) -> Any:
            return x

        with Flow("f") as flow:
            a = ident.map([1, 2])
            b = ident.map((3,))
            c = ident.map(a)
            d = ident.map("ab")
        state = flow.run()
        assert state.result[c].result == [1, 2]
        assert state.result[b].result == [3]
        assert state.result[d].result == ["a", "b"]

    @pytest.mark.parametrize("value", [5, {1, 2}])
    def test_mapping_over_a_keyword_constant_that_cannot_be_indexed_fails_the_run(
        self, value: Any
    ) -> None:
        # Prefect 1 refuses only positional ones at build time; a keyword one fails the run.
        with Flow("f") as flow:
            m = add.map(x=value, y=[1, 2])
        state = flow.run()
        assert state.is_failed() and state.result[m].is_failed()
        assert "cannot map over argument 'x'" in state.result[m].message

    def test_a_bare_state_handler(self) -> None:
        with pytest.raises(TypeError, match=r"state_handlers=\[handler\]"):
            Task(state_handlers=print)  # type: ignore[arg-type]


class TestValueErrors:
    def test_a_parameter_given_upstream_tasks(self) -> None:
        p = Parameter("p")
        with pytest.raises(ValueError, match=r"Parameter 'p' cannot have upstream tasks"):
            with Flow("f") as flow:
                flow.set_dependencies(p, upstream_tasks=[Task()])
        flow = Flow("g")
        with pytest.raises(FlowValidationError, match="Parameters are root tasks"):
            flow.add_edge(Task(), p)
        with pytest.raises(ValueError, match="Parameters are root tasks"):
            p.set_upstream(Task(), flow=flow)

    @pytest.mark.parametrize(
        "query", ["edges_to", "edges_from", "upstream_tasks", "downstream_tasks"]
    )
    def test_a_query_for_a_task_not_in_the_flow(self, query: str) -> None:
        flow = Flow("f")
        flow.add_task(Task(name="inside"))
        with pytest.raises(ValueError, match=r"Flow 'f' has no task 'outside'"):
            getattr(flow, query)(Task(name="outside"))

    def test_sorted_tasks_from_a_root_not_in_the_flow(self) -> None:
        flow = Flow("f")
        inside = flow.add_task(Task(name="inside"))
        assert flow.sorted_tasks([inside]) == (inside,)
        with pytest.raises(ValueError, match=r"has no task 'outside'"):
            flow.sorted_tasks([Task(name="outside")])
