"""Context and logging, as in Prefect 1: values set around a run, the keys a task
reads, its logger, and the lines a local run prints."""

from __future__ import annotations

import sys

from weir import Flow, Parameter, context, task, unmapped
from weir.utilities.logging import configure_logging

# Prefect 1's layout without its time, and on stdout, so the page shows fixed lines
# (a run prints on stderr, with the time, unless told otherwise).
configure_logging(stream=sys.stdout, fmt="%(levelname)s - %(name)s | %(message)s")


@task(task_run_name="load-{table}-{day}")
def load(table: str, day: str) -> str:
    logger = context.get("logger")  # the task's logger: weir.load (weir.load[k] when mapped)
    logger.info("loading %s for %s (run %s)", table, context.today, context.task_run_name)
    return f"{context.task_full_name} {context.get('target', 'dev')} {context['yesterday_nodash']}"


with Flow("etl") as flow:
    day = Parameter("day", default="today")
    rows = load.map(["users", "orders"], day=unmapped(day))

with context(target="prod"):  # visible in the run's tasks, as in Prefect 1
    state = flow.run(context={"date": "2024-03-01T06:00:00+00:00"})
print(state.result[rows].result)
