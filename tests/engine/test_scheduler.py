"""The FlowRunner's decisions, without an executor or a reporter.

``_Scheduler``'s transitions take events and return instructions; nothing here
submits, waits, reports or sleeps, so each test feeds states by hand and reads
what the run would do next.
"""

from __future__ import annotations

from weir import Flow, Parameter, task
from weir.engine.flow_runner import (
    SUBMIT_IT,
    Report,
    Submit,
    SubmitChildren,
    Trace,
    _MappedTask,
    _Node,
    _Run,
    _Scheduler,
)
from weir.engine.plan import plan_for
from weir.engine.state import (
    Failed,
    Mapped,
    Paused,
    Pending,
    Resume,
    Retrying,
    Running,
    Scheduled,
    Success,
)
from weir.engine.task_runner import TaskRunner


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scheduler(flow: Flow, batch: bool = False, **parameters: int) -> tuple[_Scheduler, Clock]:
    plan = plan_for(flow)
    nodes = []
    for i, t in enumerate(plan.tasks):
        runner = None if plan.is_parameter[i] else TaskRunner(t, slug=plan.slugs[i])
        nodes.append(_Node(i, runner, {}, plan.gate[i]))
    clock = Clock()
    return _Scheduler(plan, nodes, parameters, batch, clock), clock


def node_of(sched: _Scheduler, t: object) -> _Node:
    return sched.nodes[sched.plan.index[t]]  # type: ignore[index]


def chain() -> tuple[Flow, object, object]:
    with Flow("chain") as flow:
        a = inc(1)
        b = inc(a)
    return flow, a, b


class TestStart:
    def test_roots_are_ready_and_a_task_is_submitted(self) -> None:
        flow, a, _ = chain()
        sched, _ = scheduler(flow)
        assert [(n.index, k) for n, k in sched.ready] == [(node_of(sched, a).index, None)]
        node, k = sched.ready.popleft()
        assert sched.start(node, k) is SUBMIT_IT

    def test_a_parameter_is_reported_and_finished_without_running(self) -> None:
        with Flow("p") as flow:
            x = Parameter("x")
            inc(x)
        sched, _ = scheduler(flow, x=41)
        node, k = sched.ready.popleft()
        assert node is node_of(sched, x)
        out = sched.start(node, k)
        assert isinstance(out, list) and len(out) == 1
        (report,) = out
        assert isinstance(report, Report) and report.state.result == 41 and not report.ended
        # Its downstream task is ready now.
        assert [n.index for n, _ in sched.ready] == [sched.plan.index[flow.get_tasks("inc")[0]]]

    def test_a_given_state_finishes_the_task_as_it_is(self) -> None:
        flow, a, b = chain()
        sched, _ = scheduler(flow)
        given = Success(result=7)
        node_of(sched, a).given = given
        node, k = sched.ready.popleft()
        assert list(sched.start(node, k)) == []  # type: ignore[arg-type]
        assert node.state is given
        assert sched.ready[0][0] is node_of(sched, b)


class TestDone:
    def test_a_finished_task_releases_its_downstream(self) -> None:
        flow, a, b = chain()
        sched, _ = scheduler(flow)
        sched.ready.clear()
        assert list(sched.done(node_of(sched, a), None, Success(result=2))) == []
        assert node_of(sched, b).gate == 0
        assert sched.ready[0] == (node_of(sched, b), None)

    def test_a_retry_waits_in_the_heap_until_due(self) -> None:
        flow, a, _ = chain()
        sched, clock = scheduler(flow)
        sched.ready.clear()
        node = node_of(sched, a)
        sched.done(node, None, Retrying(start_time=clock.now + 5, run_count=1))
        assert node.state is None and not sched.ready
        assert sched.next_retry_in() == 5
        assert list(sched.due_retries()) == []
        clock.now += 5
        assert list(sched.due_retries()) == [Submit(node, None, 2)]
        assert sched.next_retry_in() is None

    def test_a_far_retry_defers_the_run(self) -> None:
        flow, a, _ = chain()
        sched, clock = scheduler(flow)
        sched.done(node_of(sched, a), None, Retrying(start_time=clock.now + 60, run_count=1))
        assert not sched.defer_to_later(None)
        assert not sched.defer_to_later(100)
        assert sched.defer_to_later(10)
        assert sched.deferred_until == clock.now + 60

    def test_a_paused_task_holds_its_downstream(self) -> None:
        flow, a, b = chain()
        sched, _ = scheduler(flow)
        sched.ready.clear()
        sched.done(node_of(sched, a), None, Paused())
        assert node_of(sched, a).paused and not sched.ready
        assert type(sched.final_states()[a]) is Paused
        assert type(sched.final_states()[b]) is Pending

    def test_cancel_drops_ready_units_and_retries(self) -> None:
        flow, a, _ = chain()
        sched, clock = scheduler(flow)
        sched.done(node_of(sched, a), None, Retrying(start_time=clock.now, run_count=1))
        sched.cancel()
        assert sched.cancelled and not sched.ready and sched.next_retry_in() is None


class TestMapping:
    def mapped_flow(self) -> tuple[Flow, object, object]:
        with Flow("map") as flow:
            m = inc.map([1, 2, 3])
            t = total(m)
        return flow, m, t

    def test_expanding_readies_the_children_and_traces_it(self) -> None:
        flow, m, _ = self.mapped_flow()
        sched, _ = scheduler(flow)
        node = node_of(sched, m)
        sched.ready.clear()
        sched.done(sched.nodes[sched.plan.up[node.index][0][1]], None, Success(result=[1, 2, 3]))
        sched.ready.clear()
        out = sched.start(node, None)
        assert out == [Trace("task_mapped", node, None, {"children": 3})]
        assert [k for _, k in sched.ready] == [0, 1, 2]
        assert isinstance(node.mapped, _MappedTask) and node.mapped.left == 3

    def test_children_go_in_one_batch_to_an_executor_that_batches(self) -> None:
        flow, m, _ = self.mapped_flow()
        sched, _ = scheduler(flow, batch=True)
        node = node_of(sched, m)
        sched.done(sched.nodes[sched.plan.up[node.index][0][1]], None, Success(result=[1, 2, 3]))
        out = sched.start(node, None)
        assert out[-1] == SubmitChildren(node, [0, 1, 2])  # type: ignore[index]

    def test_the_last_child_reports_the_parent_mapped(self) -> None:
        flow, m, t = self.mapped_flow()
        sched, _ = scheduler(flow)
        node = node_of(sched, m)
        sched.done(sched.nodes[sched.plan.up[node.index][0][1]], None, Success(result=[1, 2, 3]))
        sched.start(node, None)
        sched.ready.clear()
        assert list(sched.done(node, 0, Success(result=2))) == []
        assert list(sched.done(node, 1, Failed())) == []
        (report,) = sched.done(node, 2, Success(result=4))
        assert isinstance(report, Report) and isinstance(report.state, Mapped)
        assert report.ended and report.state.result == [2, None, 4]
        assert node.state is report.state
        assert sched.ready[0] == (node_of(sched, t), None)

    def test_a_task_with_nothing_to_map_over_is_reported_by_the_run(self) -> None:
        # No TaskRunner runs for it, so without the run's report the server never
        # hears of it (a flow-run page would miss the task that broke the run).
        flow, m, _ = self.mapped_flow()
        sched, _ = scheduler(flow)
        node = node_of(sched, m)
        sched.done(sched.nodes[sched.plan.up[node.index][0][1]], None, Failed("no items"))
        out = sched.start(node, None)
        report = out[0]
        assert isinstance(report, Report) and report.ended and report.node is node
        assert report.state.is_failed() and "did not succeed" in report.state.message
        assert node.state is report.state


def test_a_failed_map_reaches_the_reporter_of_a_real_run() -> None:
    from weir.engine.reporter import InMemoryReporter

    @task
    def broken() -> list[int]:
        raise ValueError("no items today")

    with Flow("broken-map") as flow:
        m = inc.map(broken())
    reporter = InMemoryReporter()
    state = flow.run(reporter=reporter)
    assert state.result[m].is_failed()
    slug = flow.slugs[m]  # type: ignore[index]
    assert [s.name for s in reporter.task_states[(slug, None)]] == ["TriggerFailed"]


def test_the_run_builds_one_node_per_task() -> None:
    """_Run gives the scheduler a node per task, with the given states on theirs."""
    from weir.context import FlowContext
    from weir.engine.flow_runner import FlowRunner
    from weir.executors import LocalExecutor

    flow, a, b = chain()
    given = Success(result=5)
    run = _Run(FlowRunner(flow), plan_for(flow), LocalExecutor(), FlowContext(), {a: given})
    assert [n.index for n in run.sched.nodes] == [0, 1]
    assert node_of(run.sched, a).given is given and node_of(run.sched, b).given is None


class TestGivenStates:
    """``task_states`` seed the run by Prefect 1's rules (``_start_given``)."""

    def start_root(self, state: object) -> tuple[_Scheduler, Clock, _Node, object]:
        flow, a, _ = chain()
        sched, clock = scheduler(flow)
        node = node_of(sched, a)
        node.given = state  # type: ignore[assignment]
        sched.ready.popleft()
        return sched, clock, node, sched.start(node, None)

    def test_pending_runs_as_usual(self) -> None:
        _, _, _, out = self.start_root(Pending())
        assert out is SUBMIT_IT

    def test_a_due_retrying_state_runs_as_its_next_attempt(self) -> None:
        given = Retrying(start_time=999.0, run_count=2)
        _, _, node, out = self.start_root(given)
        assert list(out) == [Submit(node, None, 3, given)]  # type: ignore[arg-type]

    def test_a_scheduled_state_not_due_waits_on_the_heap_and_shows_as_given(self) -> None:
        given = Scheduled(start_time=1060.0)
        sched, clock, node, out = self.start_root(given)
        assert list(out) == []  # type: ignore[arg-type]
        assert sched.next_retry_in() == 60
        assert sched.final_states()[sched.plan.tasks[node.index]] is given
        clock.now += 60
        assert list(sched.due_retries()) == [Submit(node, None, 1, given)]

    def test_paused_is_held_and_resume_runs(self) -> None:
        paused = Paused()
        sched, _, node, out = self.start_root(paused)
        assert list(out) == [] and node.paused  # type: ignore[arg-type]
        assert sched.final_states()[sched.plan.tasks[node.index]] is paused
        resume = Resume()
        _, _, node, out = self.start_root(resume)
        assert list(out) == [Submit(node, None, 1, resume)]  # type: ignore[arg-type]

    def test_a_running_state_is_left_as_it_is(self) -> None:
        running = Running()
        sched, _, node, out = self.start_root(running)
        assert list(out) == [] and not sched.retries  # type: ignore[arg-type]
        assert sched.final_states()[sched.plan.tasks[node.index]] is running


class TestOnePass:
    def test_max_wait_zero_stops_for_any_retry_even_one_due_now(self) -> None:
        flow, a, _ = chain()
        sched, clock = scheduler(flow)
        waiting = Retrying(start_time=clock.now, run_count=1)
        sched.done(node_of(sched, a), None, waiting)
        assert sched.defer_to_later(0)
        assert sched.final_states()[a] is waiting

    def test_a_mapped_task_with_unfinished_children_shows_as_mapped(self) -> None:
        with Flow("m") as flow:
            m = inc.map(Parameter("xs"))
        sched, clock = scheduler(flow, xs=[1, 2])  # type: ignore[arg-type]
        while sched.ready:
            sched.start(*sched.ready.popleft())  # the parameter, then m expands
        node = node_of(sched, m)
        sched.done(node, 0, Success(result=2))
        sched.done(node, 1, Retrying(start_time=clock.now + 5, run_count=1))
        state = sched.final_states()[m]
        assert type(state) is Mapped
        assert [type(c) for c in state.map_states] == [Success, Retrying]
