"""Driving a run pass by pass with FlowRunner, as Prefect 1 code does."""

import datetime

from weir import Flow, Parameter, context, task
from weir.engine.flow_runner import FlowRunner
from weir.engine.state import Resume
from weir.triggers import manual_only


@task(max_retries=1, retry_delay=datetime.timedelta(minutes=5))
def fetch(n):
    if context.task_run_count == 1:
        raise ConnectionError("the API is not up yet")
    return list(range(n))


@task
def total(xs):
    return sum(xs)


@task(trigger=manual_only)
def publish(x):
    return f"published {x}"


with Flow("report") as flow:
    n = Parameter("n", default=4)
    data = fetch(n)
    result = publish(total(data))

runner = FlowRunner(flow=flow)

# Pass 1: fetch fails and will retry in 5 minutes; the pass ends instead of waiting.
state = runner.run(return_tasks=flow.tasks)
print("pass 1:", state.name, "| fetch:", state.result[data].name)

# Pass 2, when the retry is due (here: we say it is): fetch runs, publish pauses.
states = dict(state.result)
states[data].start_time = 0
state = runner.run(task_states=states, return_tasks=flow.tasks)
print("pass 2:", state.name, "| publish:", state.result[result].name)

# Pass 3, approved: publish runs with a Resume state; finished tasks are kept.
states = {**state.result, result: Resume()}
state = runner.run(task_states=states, return_tasks=[result])
print("pass 3:", state.name, "|", state.result[result].result)
