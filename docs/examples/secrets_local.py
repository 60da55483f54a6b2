"""PrefectSecret: a secret read when the flow runs, from the context or the environment."""

from __future__ import annotations

import logging
import os
import sys

from weir import Flow, task
from weir.tasks.secrets import PrefectSecret


@task
def connect(password: str, config: dict) -> str:
    connect.logger.info("connecting to %s with %s", config["host"], password)
    return f"connected to {config['host']} with a {len(password)}-character password"


with Flow("etl") as flow:
    result = connect(PrefectSecret("DB_PASSWORD"), PrefectSecret("DB_CONFIG"))

# Prefect 1's convention, with the prefix changed: WEIR__CONTEXT__SECRETS__<NAME>.
os.environ["WEIR__CONTEXT__SECRETS__DB_CONFIG"] = '{"host": "db.internal"}'  # JSON is read

# The task's log line shows where the value would be: masked.
logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(name)s: %(message)s")
state = flow.run(context={"secrets": {"DB_PASSWORD": "correct-horse"}})
print(state.result[result].result)
