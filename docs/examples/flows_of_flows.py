# docs: needs a server
"""A flow of flows: a parent starts a child run per region, waits for them, reads their results."""

from __future__ import annotations

from weir import Flow, Parameter, task, unmapped
from weir.tasks.prefect import create_flow_run, get_task_run_result, wait_for_flow_run


@task
def extract(region: str) -> int:
    return {"eu": 120, "us": 340, "apac": 75}[region]


with Flow("regional-etl") as child:
    extract(Parameter("region"))


@task
def report(totals: list[int]) -> str:
    return f"{sum(totals)} rows from {len(totals)} regions"


with Flow("nightly") as parent:
    runs = create_flow_run.map(
        flow_name=unmapped("regional-etl"),
        parameters=[{"region": r} for r in ("eu", "us", "apac")],
    )
    done = wait_for_flow_run.map(runs, raise_final_state=unmapped(True))
    totals = get_task_run_result.map(runs, unmapped("extract-1"), upstream_tasks=[done])
    summary = report(totals)


if __name__ == "__main__":
    import os
    import tempfile

    from weir.agent import LocalAgent
    from weir.agent.testing import drive
    from weir.client import Client
    from weir.storage import Local

    FINISHED = {"Success", "Failed", "Cancelled"}
    with Client() as client:
        for flow in (child, parent):
            flow.register(project_name="docs", storage=Local(path=os.path.abspath(__file__)))
        run = client.create_flow_run(flow_name="nightly", project="docs")
        # One agent runs the parent and the three children it starts.
        agent = LocalAgent(max_runs=4, env={"WEIR_HOME": tempfile.mkdtemp()})
        drive(agent, lambda: client.get_flow_run(run.id).state.type.value in FINISHED, 120)
        agent.shutdown(grace_period=0)

        print("nightly:", client.get_flow_run(run.id).state.type.value)
        children = client.list_flow_runs(parent_flow_run_id=run.id, full=True)
        for c in sorted(children, key=lambda c: c.parameters["region"]):
            print(" started", c.flow_name, c.parameters, "->", c.state.type.value)
        # Any run's task results can be read back the same way, here the parent's.
        print("report:", get_task_run_result.run(str(run.id), "report-1"))
