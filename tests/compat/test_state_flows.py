"""Prefect 1 flows about states, signals and mapping, ported by changing ``prefect`` to
``weir`` in their imports.

Each flow is written as Prefect 1's docs (states, mapping) and tests write it; each
test checks the result Prefect 1 gives for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import weir
from weir import Flow, Parameter, Task, context, flatten, task
from weir.engine import signals, state
from weir.engine.signals import SKIP
from weir.tasks.control_flow.filter import FilterTask
from weir.triggers import all_successful

# --- States docs: "State handlers & callbacks" ---------------------------------------

notifications: list[str] = []


def send_notification(message: str) -> None:
    notifications.append(message)


def notify_on_retry(task, old_state, new_state):
    if isinstance(new_state, state.Retrying):
        # A Retrying state's start_time is a datetime: when the task runs again.
        wait = new_state.start_time - datetime.now(timezone.utc)
        send_notification(f"{task.name} retries in about {round(wait.total_seconds())} s")
    return new_state


def test_a_handler_notifies_when_a_task_retries() -> None:
    class Flaky(Task):
        def run(self):
            if context.get("task_run_count") == 1:
                raise RuntimeError("first try fails")
            return "ok"

    task_that_notifies = Flaky(
        max_retries=1, retry_delay=timedelta(seconds=0), state_handlers=[notify_on_retry]
    )
    flow = Flow("retries", tasks=[task_that_notifies])
    notifications.clear()
    flow_state = flow.run()
    assert flow_state.result[task_that_notifies].result == "ok"
    assert notifications == ["Flaky retries in about 0 s"]


def test_a_retry_signal_schedules_the_retry_at_a_datetime() -> None:
    later = datetime.now(timezone.utc) + timedelta(seconds=0.2)
    seen: list[object] = []

    def record(task, old_state, new_state):
        if isinstance(new_state, state.Retrying):
            seen.append(new_state.start_time)
        return new_state

    @task(state_handlers=[record])
    def wait_for_data():
        if context.get("task_run_count") == 1:
            raise signals.RETRY("data is not there yet", start_time=later)
        return "data"

    with Flow("retry-later") as flow:
        data = wait_for_data()
    assert flow.run().result[data].result == "data"  # flow.run() waits for the retry
    assert seen == [later]


# --- A handler raising a signal has the signal's effect -------------------------------


def skip_on_dry_run(task, old_state, new_state):
    if new_state.is_running() and context.parameters.get("dry_run"):
        raise SKIP("dry run: nothing written")
    return new_state


@task(state_handlers=[skip_on_dry_run])
def write_report(rows):
    return f"wrote {len(rows)} rows"


@task
def notify(message):
    return f"sent: {message}"


def test_a_handler_that_raises_skip_skips_the_task_and_its_downstream() -> None:
    with Flow("report") as flow:
        dry_run = Parameter("dry_run", default=False)
        written = write_report([1, 2, 3], upstream_tasks=[dry_run])
        sent = notify(written)

    flow_state = flow.run(parameters={"dry_run": True})
    assert flow_state.is_successful()
    assert isinstance(flow_state.result[written], state.Skipped)
    assert flow_state.result[written].message == "dry run: nothing written"
    assert isinstance(flow_state.result[sent], state.Skipped)

    flow_state = flow.run(parameters={"dry_run": False})
    assert flow_state.result[sent].result == "sent: wrote 3 rows"


def test_a_handler_may_change_the_state_it_is_handed() -> None:
    def tag_the_result(task, old_state, new_state):
        if new_state.is_successful():
            new_state.message = "checked by the data team"
            new_state.context["checked_at"] = new_state.timestamp.isoformat()
        return new_state

    @task(state_handlers=[tag_the_result])
    def extract():
        return [1, 2]

    with Flow("tagged") as flow:
        rows = extract()
    result = flow.run().result[rows]
    assert result.message == "checked by the data team"
    assert datetime.fromisoformat(result.context["checked_at"]).tzinfo is not None


# --- Mapping docs: "Filter map output" -----------------------------------------------

filter_results = FilterTask(
    filter_func=lambda x: not isinstance(x, (BaseException, SKIP, type(None)))
)


@task
def unstable_task(arg):
    if arg == 1:
        raise RuntimeError("Fail this task execution")
    if arg == 2:
        raise SKIP("Skip this task execution")
    if arg == 3:
        return None

    return arg


@task
def add_one(arg):
    return arg + 1


@task
def log_args(args):
    # The docs' version logs args with context.get("logger"); here it returns them.
    return args


def test_filter_map_output() -> None:
    with Flow("filter") as flow:
        raw_out = unstable_task.map([0, 1, 2, 3, 4])
        # raw_out is [0, RuntimeError, SKIP, None, 4] at this point

        filtered = filter_results(raw_out)
        inc_out = add_one.map(filtered)

        logged = log_args(inc_out)
        # [1, 5]

    flow_state = flow.run()
    raw = flow_state.result[raw_out].result
    assert raw[0] == 0 and raw[3] is None and raw[4] == 4
    assert isinstance(raw[1], RuntimeError)
    assert isinstance(raw[2], SKIP) and str(raw[2]) == "Skip this task execution"
    assert flow_state.result[logged].result == [1, 5]


def test_children_downstream_of_a_skipped_child_skip_with_no_result() -> None:
    @task
    def add(x):
        if x == 1:
            raise SKIP("One is no good")
        return x + 1

    with Flow("skips") as flow:
        res = add.map([1, 2, 3])
        again = add_one.map(res)

    flow_state = flow.run()
    assert flow_state.is_successful()
    assert isinstance(flow_state.result[res].result[0], SKIP)
    assert flow_state.result[res].result[1:] == [3, 4]
    assert flow_state.result[again].result == [None, 4, 5]
    assert [type(s) for s in flow_state.result[again].map_states] == [
        state.Skipped,
        state.Success,
        state.Success,
    ]


# --- Mapping docs: "Flat-mapping" ------------------------------------------------------


@task
def A():
    return [1, 2, 3]


@task
def B(x):
    return list(range(x))


@task
def C(y):
    return y + 100


def test_flat_map() -> None:
    with Flow("flat map") as f:
        a = A()  # [1, 2, 3]
        b = B.map(x=a)  # [[0], [0, 1], [0, 1, 2]]
        c = C.map(y=flatten(b))  # [100, 100, 101, 100, 101, 102]

    assert f.run().result[c].result == [100, 100, 101, 100, 101, 102]


def test_flatten_of_a_list_that_is_already_flat() -> None:
    with Flow("flat already") as f:
        c = C.map(y=flatten(A()))

    flow_state = f.run()
    assert flow_state.is_successful()
    assert flow_state.result[c].result == [101, 102, 103]


def test_flatten_over_a_skipped_child() -> None:
    @task
    def B_unless_two(x):
        if x == 2:
            raise SKIP("two is skipped")
        return list(range(x))

    with Flow("flat map with a skip") as f:
        b = B_unless_two.map(x=A())
        c = C.map(y=flatten(b))

    flow_state = f.run()
    assert flow_state.is_successful()
    assert flow_state.result[c].result == [100, None, 100, 101, 102]
    assert isinstance(flow_state.result[c].map_states[1], state.Skipped)


# --- Task defaults -----------------------------------------------------------------------


def test_a_task_trigger_and_cache_validator_have_defaults() -> None:
    t = Task()
    assert t.trigger is all_successful
    assert t.trigger.__name__ == "all_successful"
    assert t.cache_validator is weir.engine.cache_validators.never_use
    assert Task(cache_for=timedelta(hours=1)).cache_validator.__name__ == "duration_only"


def test_load_result_reads_a_checkpointed_result_back(tmp_path) -> None:
    # Prefect 1's State.load_result: a state that knows where its result is kept, but
    # not the value (as one read back from the API), gets the value; a Mapped state
    # loads its children's.
    from weir.engine.results import LocalResult

    @task(checkpoint=True, result=LocalResult(dir=str(tmp_path)))
    def square(x):
        return x * x

    with Flow("load-result") as flow:
        one = square(3)
        many = square.map([1, 2])

    state = flow.run()
    single, mapped = state.result[one], state.result[many]
    single.result = None
    assert single.load_result().result == 9
    for child in mapped.map_states:
        child.result = None
    mapped.result = None
    assert mapped.load_result(LocalResult(dir=str(tmp_path))).result == [1, 4]
    assert [c.result for c in mapped.map_states] == [1, 4]


def test_a_state_s_result_object_as_prefect_1_code_reads_it(tmp_path) -> None:
    # ``flow_state.result[t]._result.location`` / ``.value``: common in Prefect 1 code.
    from weir.engine.results import LocalResult

    @task(checkpoint=True, result=LocalResult(dir=str(tmp_path)))
    def answer():
        return 42

    with Flow("result-object") as flow:
        out = answer()

    kept = flow.run().result[out]
    assert kept._result.value == 42
    assert kept._result.location == kept.location is not None
    assert LocalResult(dir=str(tmp_path)).read(kept._result.location).value == 42
    # Rehydrating a state by hand, as Prefect 1 code does.
    fresh = state.Success()
    fresh._result = LocalResult(location=kept.location)
    assert fresh.result is None and fresh.load_result().result == 42


def test_a_flow_run_starts_scheduled_as_prefect_1_s_flow_run() -> None:
    # Prefect 1's Flow.run starts the run Scheduled (due now): a flow state handler's
    # first transition is Scheduled -> Running.
    seen = []

    def handler(flow, old, new):
        seen.append((type(old).__name__, type(new).__name__))

    @task
    def one():
        return 1

    with Flow("starts-scheduled", state_handlers=[handler]) as flow:
        one()

    assert flow.run().is_successful()
    assert seen == [("Scheduled", "Running"), ("Running", "Success")]


def test_a_mapped_task_s_handlers_hear_its_own_move_to_mapped_before_its_children() -> None:
    # As in Prefect 1: the parent's handlers see Pending -> Mapped before any child
    # runs; one that replaces it ends the task there, and no child runs.
    seen = []
    ran = []

    def handler(task, old, new):
        seen.append((type(old).__name__, type(new).__name__))
        return None

    def stop(task, old, new):
        if isinstance(new, state.Mapped):
            return state.Failed("not today")
        return None

    @task(state_handlers=[handler])
    def invert(x):
        ran.append(x)
        return 1 / x

    with Flow("mapped-handlers") as flow:
        out = invert.map([1, 2])

    assert flow.run().result[out].is_mapped()
    assert seen[0] == ("Pending", "Mapped") and seen.count(("Pending", "Mapped")) == 1
    assert ran == [1, 2]
    ran.clear()
    with Flow("mapped-handlers-stop") as stopped:
        halted = invert.copy(state_handlers=[stop]).map([1, 2])
    result = stopped.run().result[halted]
    assert isinstance(result, state.Failed) and result.message == "not today"
    assert ran == []
