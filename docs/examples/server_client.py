# docs: needs a server
# docs: output varies
"""The Python client: register a flow, create a run, read it back (WEIR_API_URL)."""

from __future__ import annotations

from weir import Flow, Parameter, task
from weir.client import Client


@task
def hello(name: str) -> str:
    return f"hello {name}"


with Flow("client-demo") as my_flow:
    hello(Parameter("name", default="world"))

with Client() as client:  # WEIR_API_URL / WEIR_API_KEY
    print(client.health())
    flow = client.register_flow(my_flow.serialize(), project="etl").flow
    print(flow.name, flow.version, flow.project)
    run = client.create_flow_run(flow.id, parameters={"name": "docs"})
    print(run.name, run.state.type.value, run.parameters)
    # An agent would now claim it and start `weir execute flow-run ID`;
    # client.wait_for_flow_run(run.id) waits for that end.
    print([r.flow_name for r in client.list_flow_runs(flow_name="client-demo")])
