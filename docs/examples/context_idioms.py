"""Prefect 1's context idioms, ported: the Prefect lines are in comments."""

from __future__ import annotations

# import prefect
# from prefect import Flow, task
import weir
from weir import Flow, task


@task(task_run_name="load-{table}")  # a format string or a callable, as in Prefect 1
def load(table: str) -> str:
    logger = weir.context.get("logger")  # logger = prefect.context.get("logger")
    logger.info("%s on %s", weir.context.task_full_name, weir.context.today)
    if weir.context["target"] == "prod":  # dict access, attributes, `in`, get()
        weir.context.update(loaded=True)  # lasts for this task run only
    return f"{weir.context.task_run_name} {weir.context.yesterday} loaded={weir.context.loaded}"


with Flow("etl") as flow:
    loaded = load.map(["users", "orders"])

with weir.context(target="prod"):  # or weir.context({"target": "prod"})
    state = flow.run(context={"date": "2024-03-01"})  # today, yesterday… follow `date`
print(state.result[loaded].result)
print("loaded" in weir.context)  # the task's update stayed in its run
