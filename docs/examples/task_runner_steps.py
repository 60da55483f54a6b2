"""The TaskRunner's checks, one at a time: each upstream situation and the state it gives."""

from __future__ import annotations

import datetime

from weir import Flow, task, triggers
from weir.engine import TaskRunner
from weir.engine.state import Failed, Running, Skipped, Success


@task
def source() -> int:
    return 1


@task
def double(x: int) -> int:
    return 2 * x


@task(trigger=triggers.any_failed)
def on_failure(x: int) -> str:
    return "cleaned up"


@task(cache_for=datetime.timedelta(minutes=5))
def slow_lookup(x: int) -> int:
    return x + 100


@task(max_retries=1, retry_delay=datetime.timedelta(seconds=30))
def flaky(x: int) -> int:
    raise ValueError("try again")


with Flow("steps") as flow:
    up = source()
    double(up), on_failure(up), slow_lookup(up), flaky(up)


def edge_into(t):  # the one edge that carries ``x`` into t
    return next(iter(flow.edges_to(t)))


def show(step, name, upstream_state, **run_kwargs):
    t = flow.get_tasks(name=name)[0]
    final = TaskRunner(t).run(upstream_states={edge_into(t): upstream_state}, **run_kwargs)
    print(f"{step:<24} {name:<11} upstream {upstream_state.name:<8} -> {final.name}")
    print(f"{'':<24} {final.message} (result: {final.result!r})")


show("check_upstream_finished", "double", Running())
show("check_upstream_skipped", "double", Skipped())
show("check_trigger", "double", Failed(result=ValueError("boom")))
show("check_trigger", "on_failure", Success(result=1))
show("run", "double", Success(result=21))
show("cache_result", "slow_lookup", Success(result=1), context={"flow_name": "steps"})
show("check_cached", "slow_lookup", Success(result=1), context={"flow_name": "steps"})
show("check_for_retry", "flaky", Success(result=1))
show("(not pending)", "double", Success(result=1), state=Success(result=7))
