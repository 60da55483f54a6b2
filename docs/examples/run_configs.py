"""Run configs: where and how an agent runs a flow's runs, registered with the flow."""

from __future__ import annotations

from weir import Flow
from weir.run_configs import DockerRun, LocalRun, UniversalRun

flow = Flow("etl")

flow.run_config = LocalRun(env={"STAGE": "prod"}, working_dir="/srv/etl", labels=["etl"])
print(flow.run_config.serialize())

flow.run_config = DockerRun(image="etl:1.4", env={"STAGE": "prod"}, labels=["docker"])
print(flow.run_config.serialize())

flow.run_config = UniversalRun(env={"STAGE": "prod"})  # any agent
print(flow.run_config.serialize())
