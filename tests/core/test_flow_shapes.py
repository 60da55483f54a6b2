"""Prefect 1's Flow call shapes: run(**parameters), copy/equality, replace, update,
and the ``validate=`` keywords (Prefect 1.4.1 ``Flow`` docs)."""

from __future__ import annotations

import pytest

from weir import Flow, Parameter, Task, task
from weir.exceptions import FlowValidationError


@task
def inc(x: int) -> int:
    return x + 1


def param_flow() -> tuple[Flow, Task]:
    with Flow("f") as f:
        n = Parameter("n")
        r = inc(n)
    return f, r


class TestRunKeywords:
    def test_a_keyword_named_after_a_parameter_is_its_value(self) -> None:
        f, r = param_flow()
        assert f.run(n=3).result[r].result == 4

    def test_keywords_override_the_parameters_dict(self) -> None:
        f, r = param_flow()
        assert f.run(parameters={"n": 1}, n=5).result[r].result == 6

    def test_return_tasks_is_refused(self) -> None:
        f, r = param_flow()
        with pytest.raises(ValueError, match="FlowRunner"):
            f.run(n=1, return_tasks=[r])


class TestCopyAndEquality:
    def test_a_copy_compares_equal(self) -> None:
        f, _ = param_flow()
        g = f.copy()
        assert g == f and g is not f
        assert g.tasks == f.tasks and g.edges == f.edges

    def test_changing_the_copy_leaves_the_original(self) -> None:
        f, r = param_flow()
        g = f.copy()
        g.add_task(Task(name="extra"))
        assert g != f
        assert len(f.tasks) == 2

    def test_name_and_reference_tasks_count(self) -> None:
        f, r = param_flow()
        g = f.copy()
        g.name = "other"
        assert g != f
        h = f.copy()
        h.set_reference_tasks([f.get_parameter("n")])
        assert h != f

    def test_other_types_are_never_equal_and_flows_stay_hashable(self) -> None:
        f, _ = param_flow()
        assert f != "f"
        assert len({f, f.copy()}) == 2  # hashed by identity


class TestReplace:
    def test_new_task_takes_the_edges_and_reference_role(self) -> None:
        f, r = param_flow()
        f.set_reference_tasks([r])

        @task
        def double(x: int) -> int:
            return 2 * x

        new = double.copy()
        f.replace(r, new)
        assert r not in f.tasks and new in f.tasks
        assert f.upstream_tasks(new) == {f.get_parameter("n")}
        assert f.reference_tasks() == {new}
        assert f.run(n=4).result[new].result == 8

    def test_replacing_a_task_not_in_the_flow_is_a_value_error(self) -> None:
        f, _ = param_flow()
        with pytest.raises(ValueError, match="not found in flow 'f'"):
            f.replace(Task(name="ghost"), Task())

    def test_constants_move_to_the_new_task(self) -> None:
        with Flow("f") as f:
            r = inc(1)
        new = inc.copy()
        f.replace(r, new)
        assert f.run().result[new].result == 2


class TestUpdate:
    def test_takes_the_other_flows_tasks_and_edges(self) -> None:
        f, r = param_flow()
        g = Flow("g")
        g.update(f)
        assert g.tasks == f.tasks and g.edges == f.edges
        assert g.run(n=1).result[r].result == 2

    def test_merge_parameters_replaces_a_parameter_of_the_same_name(self) -> None:
        f, r = param_flow()
        with Flow("g") as g:
            mine = Parameter("n", default=10)
            s = inc(mine)
        g.update(f, merge_parameters=True)
        theirs = f.get_parameter("n")
        assert g.get_parameter("n") is theirs
        assert g.upstream_tasks(s) == {theirs}
        state = g.run(n=1)
        assert state.result[s].result == 2 and state.result[r].result == 2

    def test_a_second_parameter_of_one_name_is_refused(self) -> None:
        f, _ = param_flow()
        with Flow("g") as g:
            inc(Parameter("n"))
        with pytest.raises(FlowValidationError, match="merge_parameters=True"):
            g.update(f)

    def test_merge_reference_tasks(self) -> None:
        f, r = param_flow()
        f.set_reference_tasks([r])
        g = Flow("g", tasks=[t := Task(name="t")], reference_tasks=[t])
        g.update(f, merge_reference_tasks=True)
        assert g.reference_tasks() == {t, r}


class TestValidateKeyword:
    def test_flow_takes_validate(self) -> None:
        a, b = Task(name="a"), Task(name="b")
        f = Flow("f", edges=[Flow("x", tasks=[a, b]).add_edge(a, b)], validate=False)
        assert f.upstream_tasks(b) == {a}

    def test_add_edge_without_validation_defers_the_cycle_to_validate(self) -> None:
        f = Flow("f")
        a, b = Task(name="a"), Task(name="b")
        f.add_edge(a, b)
        f.add_edge(b, a, validate=False)
        with pytest.raises(FlowValidationError, match="cycle"):
            f.validate()
        with pytest.raises(FlowValidationError, match="cycle"):
            f.add_edge(b, a)

    def test_chain_returns_its_edges(self) -> None:
        f = Flow("f")
        a, b, c = Task(name="a"), Task(name="b"), Task(name="c")
        edges = f.chain(a, b, c, validate=True)
        assert [(e.upstream_task, e.downstream_task) for e in edges] == [(a, b), (b, c)]
