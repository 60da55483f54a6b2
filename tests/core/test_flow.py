"""weir.core.flow: both APIs, graph queries, indexes, validation and build-time errors."""

from __future__ import annotations

import re

import pytest

from weir import Flow, Parameter, Task, task, unmapped
from weir.core.edge import Edge
from weir.engine.state import Success
from weir.exceptions import FlowValidationError, ParameterError, TaskCallError


@task
def extract(n: int) -> list[int]:
    return list(range(n))


@task
def transform(data: list[int], factor: int = 1) -> list[int]:
    return [x * factor for x in data]


@task
def load(data: list[int]) -> int:
    return sum(data)


@task
def notify() -> str:
    return "done"


@task
def one() -> int:
    return 1


@task
def inc(x: int) -> int:
    return x + 1


def named(name: str) -> Task:
    """A fresh no-argument task called ``name``."""
    return task(name=name)(lambda: name)


def by_slug(flow: Flow) -> dict[str, Task]:
    return {flow.slugs[t]: t for t in flow.tasks}


def edges_by_slug(flow: Flow) -> set[tuple[str, str, str | None, bool]]:
    s = flow.slugs
    return {(s[e.upstream_task], s[e.downstream_task], e.key, e.mapped) for e in flow.edges}


def constants_by_slug(flow: Flow) -> dict[str, dict[str, object]]:
    return {flow.slugs[t]: c for t, c in flow.constants.items() if c}


class TestBothApis:
    def build_functional(self) -> Flow:
        with Flow("etl") as flow:
            n = Parameter("n", default=3)
            data = extract(n)
            doubled = transform(data, factor=2)
            total = load(doubled)
            notify(upstream_tasks=[total])
        return flow

    def build_imperative(self) -> Flow:
        flow = Flow("etl")
        n = Parameter("n", default=3)
        e, t, ld, no = extract.copy(), transform.copy(), load.copy(), notify.copy()
        flow.add_task(e)
        flow.add_edge(n, e, key="n")
        flow.set_dependencies(t, keyword_tasks={"data": e, "factor": 2})
        ld.set_upstream(t, flow=flow, key="data")
        flow.set_dependencies(no, upstream_tasks=[ld])
        return flow

    def test_same_tasks_edges_and_constants(self) -> None:
        f1, f2 = self.build_functional(), self.build_imperative()
        assert (
            set(by_slug(f1))
            == set(by_slug(f2))
            == {
                "n",
                "extract-1",
                "transform-1",
                "load-1",
                "notify-1",
            }
        )
        assert (
            edges_by_slug(f1)
            == edges_by_slug(f2)
            == {
                ("n", "extract-1", "n", False),
                ("extract-1", "transform-1", "data", False),
                ("transform-1", "load-1", "data", False),
                ("load-1", "notify-1", None, False),
            }
        )
        assert constants_by_slug(f1) == constants_by_slug(f2) == {"transform-1": {"factor": 2}}

    def test_same_serialization(self) -> None:
        assert self.build_functional().serialize() == self.build_imperative().serialize()

    def test_same_results(self) -> None:
        for flow in (self.build_functional(), self.build_imperative()):
            state = flow.run(parameters={"n": 4})
            results = {flow.slugs[t]: s.result for t, s in state.result.items()}
            assert results["load-1"] == 12
            assert results["notify-1"] == "done"

    def test_mixing_both_apis(self) -> None:
        with Flow("mixed") as flow:
            a = one()
            b = inc(a)
        c = inc.copy()
        flow.set_dependencies(c, keyword_tasks={"x": b})
        flow.add_edge(a, c)
        state = flow.run()
        assert state.result[c].result == 3
        assert flow.upstream_tasks(c) == {a, b}


class TestConstructor:
    def test_tasks_edges_and_reference_tasks(self) -> None:
        a, b, c = named("a"), named("b"), named("c")
        flow = Flow("f", tasks=[c], edges=[Edge(a, b)], reference_tasks=[a])
        assert flow.task_list() == [c, a, b]
        assert flow.edges == {Edge(a, b)}
        assert flow.reference_tasks() == {a}


class TestFunctionalApi:
    def test_upstream_tasks_adds_state_only_edges(self) -> None:
        with Flow("f") as flow:
            a = one()
            b = notify(upstream_tasks=[a])
        (edge,) = flow.edges
        assert (edge.upstream_task, edge.downstream_task, edge.key) == (a, b, None)

    def test_positional_and_keyword_arguments_bind_by_name(self) -> None:
        with Flow("f") as flow:
            a = one()
            t = transform(a, factor=3)
        assert {e.key for e in flow.edges_to(t)} == {"data"}
        assert flow.constants[t] == {"factor": 3}

    def test_task_can_be_called_with_a_task_bound_earlier_in_the_flow(self) -> None:
        with Flow("f") as flow:
            a = one()
            b = inc(a)
            c = inc(b)
        assert flow.run().result[c].result == 3

    def test_explicit_flow_argument_works_outside_a_with_block(self) -> None:
        flow = Flow("f")
        a = one(flow=flow)
        b = inc(a, flow=flow)
        assert flow.upstream_tasks(b) == {a}

    def test_uncalled_task_with_no_arguments_may_be_an_upstream_task(self) -> None:
        with Flow("f") as flow:
            b = notify(upstream_tasks=[one])
        assert flow.upstream_tasks(b) == {one}


class TestImperativeApi:
    def test_add_task_twice_is_one_task(self) -> None:
        flow = Flow("f")
        t = one.copy()
        flow.add_task(t)
        flow.add_task(t)
        assert flow.task_list() == [t]

    def test_add_task_refuses_non_tasks(self) -> None:
        with pytest.raises(FlowValidationError, match=r"add_task needs a Task.*@task"):
            Flow("f").add_task(lambda: 1)  # type: ignore[arg-type]

    def test_add_edge_adds_both_tasks(self) -> None:
        flow = Flow("f")
        a, b = one.copy(), inc.copy()
        edge = flow.add_edge(a, b, key="x")
        assert edge == Edge(a, b, key="x")
        assert flow.tasks == {a, b}
        assert flow.edges == {edge}

    def test_add_edge_twice_is_one_edge(self) -> None:
        flow = Flow("f")
        a, b = one.copy(), notify.copy()
        flow.add_edge(a, b)
        flow.add_edge(a, b)
        assert len(flow.edges) == 1

    def test_add_edge_mapped(self) -> None:
        flow = Flow("f")
        a, b = extract.copy(), inc.copy()
        edge = flow.add_edge(a, b, key="x", mapped=True)
        assert edge.mapped

    def test_set_dependencies_upstream_downstream_keyword(self) -> None:
        flow = Flow("f")
        a, b, c, d = one.copy(), inc.copy(), notify.copy(), notify.copy()
        flow.set_dependencies(b, upstream_tasks=[c], downstream_tasks=[d], keyword_tasks={"x": a})
        assert edges_by_slug(flow) == {
            ("one-1", "inc-1", "x", False),
            ("notify-1", "inc-1", None, False),
            ("inc-1", "notify-2", None, False),
        }

    def test_set_dependencies_mapped(self) -> None:
        flow = Flow("f")
        a, b = extract.copy(), transform.copy()
        flow.set_dependencies(b, keyword_tasks={"data": a, "factor": unmapped(2)}, mapped=True)
        (edge,) = flow.edges
        assert edge.mapped and edge.key == "data"
        assert flow.constants[b] == {"factor": 2}

    def test_set_upstream_and_set_downstream(self) -> None:
        with Flow("f") as flow:
            a = one()
            b = notify()
            c = notify()
            b.set_upstream(a)
            b.set_downstream(c)
        assert flow.upstream_tasks(b) == {a}
        assert flow.downstream_tasks(b) == {c}

    def test_set_downstream_with_key_feeds_data(self) -> None:
        flow = Flow("f")
        a, b = one.copy(), inc.copy()
        a.set_downstream(b, flow=flow, key="x")
        assert flow.run().result[b].result == 2

    def test_chain(self) -> None:
        flow = Flow("f")
        tasks = [named(n) for n in "abcd"]
        flow.chain(*tasks)
        assert [(e.upstream_task.name, e.downstream_task.name) for e in flow.edge_list()] == [
            ("a", "b"),
            ("b", "c"),
            ("c", "d"),
        ]
        assert list(flow.sorted_tasks()) == tasks


class TestQueries:
    @pytest.fixture
    def diamond(self) -> tuple[Flow, dict[str, Task]]:
        flow = Flow("diamond")
        t = {n: named(n) for n in "abcde"}
        flow.add_edge(t["a"], t["b"])
        flow.add_edge(t["a"], t["c"])
        flow.add_edge(t["b"], t["d"])
        flow.add_edge(t["c"], t["d"])
        flow.add_task(t["e"])
        return flow, t

    def test_upstream_and_downstream_tasks(self, diamond: tuple[Flow, dict[str, Task]]) -> None:
        flow, t = diamond
        assert flow.upstream_tasks(t["d"]) == {t["b"], t["c"]}
        assert flow.downstream_tasks(t["a"]) == {t["b"], t["c"]}
        assert flow.upstream_tasks(t["a"]) == set()
        assert flow.downstream_tasks(t["e"]) == set()

    def test_root_and_terminal_tasks(self, diamond: tuple[Flow, dict[str, Task]]) -> None:
        flow, t = diamond
        assert flow.root_tasks() == {t["a"], t["e"]}
        assert flow.terminal_tasks() == {t["d"], t["e"]}

    def test_reference_tasks_default_to_terminal(
        self, diamond: tuple[Flow, dict[str, Task]]
    ) -> None:
        flow, t = diamond
        assert flow.reference_tasks() == flow.terminal_tasks()
        flow.set_reference_tasks([t["b"]])
        assert flow.reference_tasks() == {t["b"]}
        flow.set_reference_tasks([])
        assert flow.reference_tasks() == flow.terminal_tasks()

    def test_set_reference_tasks_refuses_foreign_tasks(
        self, diamond: tuple[Flow, dict[str, Task]]
    ) -> None:
        flow, _ = diamond
        with pytest.raises(FlowValidationError, match=r"reference task 'zz' is not in the flow"):
            flow.set_reference_tasks([named("zz")])

    def test_sorted_tasks_is_topological_and_stable(
        self, diamond: tuple[Flow, dict[str, Task]]
    ) -> None:
        flow, t = diamond
        # Ties are broken by the order tasks were added.
        assert [x.name for x in flow.sorted_tasks()] == ["a", "b", "c", "d", "e"]
        assert list(flow) == list(flow.sorted_tasks())

    def test_sorted_tasks_puts_late_added_upstreams_first(self) -> None:
        flow = Flow("f")
        a, b, c = named("a"), named("b"), named("c")
        flow.add_task(a)
        flow.add_task(b)
        flow.add_edge(c, a)  # c was added last but must run before a
        # Ready tasks go in add order: b and c are ready at once, a only after c.
        assert [x.name for x in flow.sorted_tasks()] == ["b", "c", "a"]

    def test_sorted_tasks_from_roots(self, diamond: tuple[Flow, dict[str, Task]]) -> None:
        flow, t = diamond
        assert [x.name for x in flow.sorted_tasks(root_tasks=[t["b"]])] == ["b", "d"]

    def test_sorted_tasks_is_cached_until_the_graph_changes(
        self, diamond: tuple[Flow, dict[str, Task]]
    ) -> None:
        flow, t = diamond
        first = flow.sorted_tasks()
        assert flow.sorted_tasks() is first
        flow.add_edge(t["e"], t["a"])
        second = flow.sorted_tasks()
        assert second is not first
        assert second.index(t["e"]) < second.index(t["a"])
        f = named("f")
        flow.add_task(f)
        assert f in flow.sorted_tasks()

    def test_queries_see_edges_added_after_a_query(
        self, diamond: tuple[Flow, dict[str, Task]]
    ) -> None:
        flow, t = diamond
        assert flow.root_tasks() == {t["a"], t["e"]}
        assert flow.terminal_tasks() == {t["d"], t["e"]}
        flow.add_edge(t["d"], t["e"])
        assert flow.upstream_tasks(t["e"]) == {t["d"]}
        assert flow.downstream_tasks(t["d"]) == {t["e"]}
        assert flow.root_tasks() == {t["a"]}
        assert flow.terminal_tasks() == {t["e"]}
        assert flow.edges_to(t["e"]) == {Edge(t["d"], t["e"])}
        assert flow.edges_from(t["d"]) == {Edge(t["d"], t["e"])}

    def test_version_changes_with_every_change(self) -> None:
        flow = Flow("f")
        v0 = flow.version
        a = named("a")
        flow.add_task(a)
        v1 = flow.version
        flow.add_edge(a, named("b"))
        assert v0 < v1 < flow.version

    def test_parameters(self) -> None:
        with Flow("f") as flow:
            x = Parameter("x", default=1)
            y = Parameter("y")
            transform(extract(x), factor=y)
        assert flow.parameters() == {x, y}
        assert flow.get_parameter("y") is y
        assert flow.get_parameter("zz") is None

    def test_get_tasks_and_task_by_slug(self) -> None:
        with Flow("f") as flow:
            a = one(task_args={"tags": ["x"]})
            b = inc(a)
        assert flow.get_tasks(name="inc") == [b]
        assert flow.get_tasks(tags=["x"]) == [a]
        assert flow.task_by_slug("inc-1") is b
        with pytest.raises(KeyError, match=r"Flow 'f' has no task with slug 'nope'"):
            flow.task_by_slug("nope")

    def test_tasks_made_in_the_block_but_never_added_are_warned_about(self) -> None:
        # As in Prefect 1: the classic slip is a Task instance without its call.
        with pytest.warns(UserWarning, match=r"not added to the flow: <Task: forgotten>"):
            with Flow("f") as flow:
                Task(name="forgotten")
                called = Task(name="called")
                called()
                added = Task(name="added")
                flow.add_task(added)
        assert {t.name for t in flow.tasks} == {"called", "added"}

    def test_a_block_whose_tasks_all_joined_warns_nothing(self, recwarn) -> None:
        with Flow("f"):
            n = Parameter("n", default=1)
            extract(n)
        assert not [w for w in recwarn if "not added" in str(w.message)]

    def test_two_tasks_given_one_slug_by_hand_are_refused(self) -> None:
        flow = Flow("f")
        first = flow.add_task(Task(name="extract", slug="pull"))
        with pytest.raises(ValueError, match=r"task 'load' has slug 'pull', which task 'extract'"):
            flow.add_task(Task(name="load", slug="pull"))
        assert flow.slugs == {first: "pull"}
        assert flow.tasks == {first}

    def test_one_slug_given_by_hand_to_two_calls_is_refused(self) -> None:
        with Flow("f") as flow, pytest.raises(ValueError, match="which task 'inc' already"):
            inc(1, task_args={"slug": "s"})
            inc(2, task_args={"slug": "s"})
        assert list(flow.slugs.values()) == ["s"]

    def test_a_slugged_task_called_twice_gives_its_copy_the_next_name(self) -> None:
        pull = task(lambda: 1, name="pull", slug="pull")
        with Flow("f") as flow:
            a, b = pull(), pull()
        assert (flow.slugs[a], flow.slugs[b]) == ("pull", "pull-1")

    def test_copy_is_independent(self, diamond: tuple[Flow, dict[str, Task]]) -> None:
        flow, t = diamond
        copy = flow.copy()
        copy.add_edge(t["d"], t["e"])
        assert flow.upstream_tasks(t["e"]) == set()
        assert copy.upstream_tasks(t["e"]) == {t["d"]}
        assert copy.slugs == flow.slugs

    def test_validate_passes_on_a_good_flow(self, diamond: tuple[Flow, dict[str, Task]]) -> None:
        flow, _ = diamond
        flow.validate()


class TestBuildErrors:
    """Bad input fails when the flow is built, naming the task and the fix."""

    def test_cycle_prints_its_path(self) -> None:
        flow = Flow("f")
        a, b = named("a"), named("b")
        flow.add_edge(a, b)
        with pytest.raises(FlowValidationError) as err:
            flow.add_edge(b, a)
        message = str(err.value)
        # The path runs from the new edge's upstream through the graph back to it.
        assert "b -> a -> b" in message
        assert "Remove one of these dependencies" in message
        assert flow.upstream_tasks(a) == set()  # the refused edge left no trace

    def test_longer_cycle_prints_every_step(self) -> None:
        flow = Flow("f")
        a, b, c = named("a"), named("b"), named("c")
        flow.chain(a, b, c)
        with pytest.raises(FlowValidationError, match=r"c -> a -> b -> c"):
            flow.add_edge(c, a)

    def test_cycle_of_tasks_sharing_a_name_prints_slugs(self) -> None:
        with pytest.raises(FlowValidationError, match=r"cycle: inc-2 -> inc-1 -> inc-2\."):
            with Flow("f"):
                a = inc(1)
                b = inc(a)
                a.set_upstream(b)

    def test_self_dependency(self) -> None:
        a = named("a")
        with pytest.raises(FlowValidationError, match=r"'a' cannot depend on itself.*a -> a"):
            Flow("f").add_edge(a, a)

    def test_unknown_keyword_argument(self) -> None:
        with pytest.raises(FlowValidationError) as err:
            with Flow("f"):
                transform([1], fctor=2)
        message = str(err.value)
        assert "'transform'" in message and "'fctor'" in message
        assert re.search(r"Its arguments are \(data: .*, factor: .* = 1\)", message)

    def test_unknown_keyword_argument_through_add_edge(self) -> None:
        flow = Flow("f")
        with pytest.raises(FlowValidationError, match=r"'inc' got an unexpected argument 'y'"):
            flow.add_edge(one.copy(), inc.copy(), key="y")

    def test_argument_bound_twice(self) -> None:
        flow = Flow("f")
        i = inc.copy()
        flow.add_edge(one.copy(), i, key="x")
        with pytest.raises(FlowValidationError, match=r"'inc' already has a value for .*'x'"):
            flow.add_edge(one.copy(), i, key="x")

    def test_too_many_positional_arguments(self) -> None:
        with pytest.raises(FlowValidationError, match=r"'inc':.*too many.*Its arguments are"):
            with Flow("f"):
                inc(1, 2)

    def test_missing_required_argument_is_refused_by_the_call(self) -> None:
        # Prefect 1 binds a call's arguments with signature.bind: a TypeError right there.
        with Flow("f"):
            with pytest.raises(TaskCallError) as err:
                transform(factor=2)
        assert isinstance(err.value, TypeError) and isinstance(err.value, FlowValidationError)
        message = str(err.value)
        assert "'transform'" in message and "'data'" in message
        assert "Pass it when calling the task" in message

    def test_missing_argument_given_later_by_the_imperative_api(self) -> None:
        with Flow("f") as flow:
            t = transform.copy()
            flow.add_task(t)
            t.set_upstream(extract(2), key="data")
            flow.set_dependencies(t, keyword_tasks={"factor": 2})
        assert flow.run().result[t].result == [0, 2]

    def test_missing_argument_in_imperative_flow_fails_validate_and_run(self) -> None:
        flow = Flow("f")
        flow.add_task(inc.copy())
        with pytest.raises(FlowValidationError, match=r"'inc' \(inc-1\) is missing .* 'x'"):
            flow.validate()
        with pytest.raises(FlowValidationError, match=r"'inc'.*missing"):
            flow.run()

    def test_task_bound_in_another_flow(self) -> None:
        with Flow("first"):
            a = one()
        with pytest.raises(FlowValidationError) as err:
            with Flow("second"):
                inc(a)
        message = str(err.value)
        assert "'one' was bound in flow 'first'" in message
        assert "flow 'second'" in message
        assert "one.copy()" in message

    def test_task_bound_in_another_flow_as_upstream_task(self) -> None:
        with Flow("first"):
            a = one()
        with pytest.raises(FlowValidationError, match=r"'one' was bound in flow 'first'"):
            with Flow("second"):
                notify(upstream_tasks=[a])

    def test_two_parameters_with_one_name(self) -> None:
        with pytest.raises(FlowValidationError) as err:
            with Flow("f"):
                transform(Parameter("data"), factor=Parameter("data"))
        message = str(err.value)
        assert "Parameter named 'data'" in message
        assert "reuse the existing Parameter object" in message

    def test_same_parameter_object_twice_is_fine(self) -> None:
        with Flow("f") as flow:
            p = Parameter("n", default=2)
            transform(extract(p), factor=p)
        assert flow.parameters() == {p}

    def test_uncalled_task_that_needs_arguments_in_upstream_tasks(self) -> None:
        with pytest.raises(FlowValidationError) as err:
            with Flow("f"):
                notify(upstream_tasks=[inc])
        message = str(err.value)
        assert "'notify'" in message and "'inc' itself" in message
        assert "needs arguments (x)" in message
        assert "x = inc(...)" in message

    def test_uncalled_task_that_needs_arguments_as_an_argument(self) -> None:
        with pytest.raises(FlowValidationError, match=r"argument 'data' got task 'extract'"):
            with Flow("f"):
                load(extract)

    def test_edge_to_a_non_task(self) -> None:
        with pytest.raises(FlowValidationError, match=r"edges join Tasks, got int"):
            Flow("f").add_edge(one.copy(), 3)  # type: ignore[arg-type]

    def test_flow_needs_a_name(self) -> None:
        with pytest.raises(FlowValidationError, match="non-empty string name"):
            Flow("")


class TestRunTimeParameterErrors:
    def test_required_parameter_not_given(self) -> None:
        with Flow("f") as flow:
            extract(Parameter("n"))
        with pytest.raises(ParameterError) as err:
            flow.run()
        message = str(err.value)
        assert "Flow 'f'" in message and "required parameter n" in message
        assert "parameters={'n': ...}" in message

    def test_unknown_parameter(self) -> None:
        with Flow("f") as flow:
            extract(Parameter("n", default=1))
        with pytest.raises(ParameterError) as err:
            flow.run(parameters={"m": 2})
        message = str(err.value)
        assert "unknown parameters: m" in message and "Its parameters are: n" in message

    def test_given_parameters_and_defaults(self) -> None:
        with Flow("f") as flow:
            n = Parameter("n", default=2)
            f = Parameter("factor", default=10)
            t = transform(extract(n), factor=f)
        assert flow.run().result[t].result == [0, 10]
        assert flow.run(parameters={"n": 3, "factor": 1}).result[t].result == [0, 1, 2]


class TestRunReturnsFlowState:
    def test_result_maps_every_task_to_its_state(self) -> None:
        with Flow("f") as flow:
            n = Parameter("n", default=2)
            e = extract(n)
            ld = load(e)
        state = flow.run(parameters={"n": 3})
        assert isinstance(state, Success)
        assert set(state.result) == {n, e, ld}
        assert all(isinstance(s, Success) for s in state.result.values())
        assert state.result[n].result == 3
        assert state.result[ld].result == 3


class TestUpstreamTasksSlips:
    """The classic `upstream_tasks` mistakes are refused when the flow is built."""

    def test_a_single_task_instead_of_a_list(self) -> None:
        @task
        def extract() -> int:
            return 1

        @task
        def cleanup() -> None:
            pass

        with pytest.raises(FlowValidationError, match=r"must be a list of tasks.*'extract'"):
            with Flow("f"):
                rows = extract()
                cleanup(upstream_tasks=rows)

    def test_the_task_itself_when_its_call_is_already_in_the_flow(self) -> None:
        @task
        def cleanup() -> None:
            pass

        @task
        def extract() -> int:
            return 1

        with pytest.raises(FlowValidationError, match=r"already called .* \(as cleanup-1\)"):
            with Flow("f"):
                cleanup()
                extract(upstream_tasks=[cleanup])

    def test_an_uncalled_no_argument_task_used_only_as_upstream_is_added_once(self) -> None:
        @task
        def cleanup() -> None:
            pass

        @task
        def extract() -> int:
            return 1

        with Flow("f") as flow:
            extract(upstream_tasks=[cleanup])
        assert sorted(flow.slugs.values()) == ["cleanup-1", "extract-1"]
