"""Prefect 1 flows using the Task API (retry_on, nout, copy, a bare Task) and the
errors Prefect 1 raises while building them, ported by changing ``prefect`` to
``weir`` in their imports.

Each flow is written as Prefect 1's docs and docstrings write it; each test checks
the result (or the built-in error type) Prefect 1 gives for it. This module keeps
its annotations evaluated (no ``from __future__ import annotations``), as Prefect 1
reads ``nout`` from them.
"""

from datetime import timedelta
from typing import Tuple  # noqa: UP035 (as Prefect 1's users write it)

import pytest

from weir import Flow, Parameter, Task, case, task


def test_retry_on_retries_only_the_listed_exceptions():
    # Prefect 1's Task docstring: "retries will only occur if the exception is a
    # subtype of the exception types provided".
    calls = {"fetch": 0, "parse": 0}

    @task(max_retries=3, retry_delay=timedelta(seconds=0), retry_on=ConnectionError)
    def fetch():
        calls["fetch"] += 1
        if calls["fetch"] < 3:
            raise ConnectionError("the server is busy")
        return "page"

    @task(max_retries=3, retry_delay=timedelta(seconds=0), retry_on={ConnectionError})
    def parse(page):
        calls["parse"] += 1
        raise ValueError(f"cannot parse {page}")

    with Flow("retry-on") as flow:
        page = fetch()
        parsed = parse(page)

    state = flow.run()
    assert state.is_failed()
    assert state.result[page].is_successful() and state.result[page].result == "page"
    assert state.result[parsed].is_failed()
    assert isinstance(state.result[parsed].result, ValueError)
    assert calls == {"fetch": 3, "parse": 1}


def test_retry_on_needs_max_retries():
    with pytest.raises(ValueError):
        Task(retry_on=ConnectionError)
    with pytest.raises(TypeError):
        Task(max_retries=1, retry_delay=timedelta(seconds=1), retry_on=[ConnectionError()])


def test_nout_is_read_from_a_tuple_return_annotation():
    # Prefect 1's Task docstring: nout "will be inferred from the task return
    # annotation, if possible".
    @task
    def split(total: int) -> Tuple[int, int]:  # noqa: UP006
        return divmod(total, 10)

    @task
    def both(x: int) -> tuple[int, int]:
        return x, x * 2

    @task
    def add(x, y):
        return x + y

    with Flow("nout") as flow:
        tens, ones = split(47)
        a, b = both(ones)
        total = add(tens, b)

    state = flow.run()
    assert state.result[tens].result == 4 and state.result[ones].result == 7
    assert state.result[a].result == 7
    assert state.result[total].result == 18


def test_a_variable_length_tuple_is_not_unpacked():
    @task
    def many() -> Tuple[int, ...]:  # noqa: UP006
        return (1, 2, 3)

    with Flow("nout"):
        result = many()
        with pytest.raises(TypeError):
            first, second, third = result


def test_task_copy_sets_attributes_and_adds_tags():
    class Greet(Task):
        def __init__(self, greeting="hello", **kwargs):
            self.greeting = greeting
            super().__init__(**kwargs)

        def run(self, who):
            return f"{self.greeting}, {who}"

    greet = Greet(name="greet", tags=["io"])
    formal = greet.copy(name="formal", greeting="good day", tags=["polite"])
    assert formal.name == "formal" and formal.tags == {"io", "polite"}
    assert greet.name == "greet" and greet.tags == {"io"}
    with pytest.raises(AttributeError):
        greet.copy(grreting="hi")

    with Flow("copies") as flow:
        a = greet("ann")
        b = formal("bob")
        c = greet("cy", task_args=dict(greeting="hey"))

    state = flow.run()
    assert state.result[a].result == "hello, ann"
    assert state.result[b].result == "good day, bob"
    assert state.result[c].result == "hey, cy"


def test_parameter_copy_takes_a_new_name():
    @task
    def add(x, y):
        return x + y

    x = Parameter("x", default=1)
    y = x.copy("y")
    with Flow("params") as flow:
        total = add(x, y)

    assert {p.name for p in flow.parameters()} == {"x", "y"}
    assert flow.run().result[total].result == 2
    assert flow.run(parameters={"y": 10}).result[total].result == 11


def test_calling_a_parameter_adds_it_to_the_flow():
    with Flow("params") as flow:
        p = Parameter("p", default=3)()
    assert flow.parameters() == {p}


def test_a_bare_task_is_a_no_op():
    # Prefect 1's Task.run has no body: a Task() succeeds with None.
    @task
    def extract():
        return [1, 2]

    with Flow("placeholders") as flow:
        start = Task(name="start")()
        data = extract(upstream_tasks=[start])
        done = Task(name="done")(upstream_tasks=[data])

    state = flow.run()
    assert state.is_successful()
    assert state.result[start].result is None and state.result[done].result is None
    assert state.result[data].result == [1, 2]


@task
def inc(x):
    return x + 1


def test_calls_with_wrong_arguments_raise_type_error():
    with Flow("bad-calls"):
        with pytest.raises(TypeError):
            inc(1, 2)  # too many positionals
        with pytest.raises(TypeError):
            inc(x=1, y=2)  # unknown keyword
        with pytest.raises(TypeError):
            inc()  # missing argument
        with pytest.raises(TypeError):
            inc.map(5)  # not a sequence


def test_building_errors_of_prefect_1s_types():
    flow = Flow("bad-build")
    with pytest.raises(TypeError):
        flow.add_task(lambda: 1)
    with pytest.raises(TypeError):
        Task(timeout="10")
    with pytest.raises(ValueError):
        flow.add_edge(Task(), Parameter("p"))
    with pytest.raises(ValueError):
        flow.upstream_tasks(Task())
    with pytest.raises(ValueError):
        flow.edges_to(Task())
    with Flow("case-value"):
        cond = inc(1)
        with pytest.raises(TypeError):
            case(cond, Task())


def test_timeouts_in_whole_seconds_or_a_timedelta_are_accepted():
    Task(timeout=10)
    Task(timeout=timedelta(minutes=2))


def test_case_on_a_constant_compares_the_constant():
    # Prefect 1 turns a non-task condition into a Constant, as any other argument.
    @task
    def hello():
        return "hi"

    with Flow("constant-case") as flow:
        with case("prod", "prod"):
            ran = hello()
        with case("dev", "prod"):
            skipped = hello()

    state = flow.run()
    assert state.result[ran].result == "hi"
    assert state.result[skipped].is_skipped()


def test_constants_in_upstream_tasks_become_tasks_that_order_the_run() -> None:
    order: list[str] = []

    @task
    def first() -> None:
        order.append("first")

    @task
    def then() -> str:
        order.append("then")
        return "done"

    with Flow("constants-upstream") as flow:
        out = then(upstream_tasks=[5, [first()]])
    state = flow.run()
    assert state.result[out].result == "done"
    assert order == ["first", "then"]
    assert len(flow.upstream_tasks(out)) == 2


def test_a_task_name_in_upstream_tasks_is_refused() -> None:
    @task
    def extract() -> int:
        return 1

    with Flow("name-slip"):
        extract()
        with pytest.raises(TypeError, match="give the task itself"):
            Task(name="cleanup")(upstream_tasks=["extract"])


def test_pipe_passes_the_task_as_the_first_argument_of_the_next():
    # Prefect 1's Task.pipe: ``some_task().pipe(other_task)`` is ``other_task(some_task())``.
    @task
    def extract():
        return [3, 1, 2]

    @task
    def ordered(xs, reverse=False):
        return sorted(xs, reverse=reverse)

    @task
    def first(xs):
        return xs[0]

    with Flow("pipe") as flow:
        top = extract().pipe(ordered, reverse=True).pipe(first)

    assert flow.run().result[top].result == 3
    with Flow("pipe-self"), pytest.raises(ValueError, match="'self'"):
        extract().pipe(ordered, self=1)


def test_pipe_through_a_marker_wraps_the_task():
    from weir import unmapped

    @task
    def base():
        return 10

    @task
    def add(x, y):
        return x + y

    with Flow("pipe-unmapped") as flow:
        total = add.map([1, 2], base().pipe(unmapped))

    assert flow.run().result[total].result == [11, 12]


def test_a_flow_saved_and_loaded_runs_without_its_script(tmp_path):
    # Prefect 1's flow.save() / Flow.load(): by path, or by the flow's name.
    @task
    def double(x):
        return 2 * x

    with Flow("saved etl") as flow:
        double(Parameter("x", default=4))

    path = flow.save(tmp_path / "etl.weir")
    loaded = Flow.load(path)
    [doubled] = loaded.get_tasks(name="double")
    assert loaded.run(x=5).result[doubled].result == 10
    default = flow.save()
    assert default.endswith("saved-etl.weir")
    assert Flow.load("saved etl").name == "saved etl"
    from weir.exceptions import StorageError

    with pytest.raises(StorageError, match="No saved flow at .*nor one saved as 'nothing here'"):
        Flow.load("nothing here")


def test_pause_task_pauses_until_resumed():
    # Prefect 1's pause_task docstring example, as written there.
    from weir.engine.state import Paused, Resume, Success
    from weir.utilities.tasks import pause_task

    @task
    def add(x, y):
        z = y - x  # this code will be rerun after resuming from the pause!
        if z == 0:
            pause_task()
        return x + y

    with Flow("My Flow") as f:
        res = add(4, 4)

    state = f.run()
    assert isinstance(state.result[res], Paused)
    state = f.run(task_states={res: Resume()})
    assert isinstance(state.result[res], Success) and state.result[res].result == 8


def test_as_task_makes_tasks_of_values_and_collections():
    from weir import unmapped
    from weir.tasks.core.constants import Constant
    from weir.utilities.tasks import as_task

    @task
    def one():
        return 1

    with Flow("as-task") as flow:
        a = one()
        assert as_task(a) is a and as_task(unmapped(a)) is a
        collected = as_task({"a": a, "b": [a, 2]})
    assert isinstance(as_task(5), Constant) and as_task(5).value == 5
    assert flow.run().result[collected].result == {"a": 1, "b": [1, 2]}
