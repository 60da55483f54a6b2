"""Text the API refuses (lone surrogates, over-long strings) never costs a run its report."""

from __future__ import annotations

from weir.client import Client
from weir.execution import sanitize
from weir.schemas.states import StateData

from .conftest import Harness

ODD_TEXT = """
import logging
from weir import Flow, task

@task
def noisy():
    log = logging.getLogger("weir.task_run")
    log.info("read \\udcff from a file")
    log.info("y" * 1_200_000)
    log.info("a plain line")
    raise ValueError("z" * 150_000 + " \\udcfe")

with Flow("odd-text") as flow:
    noisy()
"""


def test_refused_text_is_cleaned_and_the_run_ends_in_its_own_state(
    harness: Harness, client: Client
) -> None:
    run = client.create_flow_run(flow_id=harness.register(ODD_TEXT)["odd-text"])
    harness.execute(run.id)
    final = client.get_flow_run(run.id)
    # Failed by its task, not by a crashed process.
    assert final.state.type.value == "Failed"
    assert "crashed" not in (final.state.message or "")
    lines = [line.message for line in client.get_logs(run.id, limit=100).logs]
    task_lines = [m for m in lines if m.startswith(("read ", "yyy", "a plain"))]
    assert task_lines[0] == "read \\udcff from a file"
    assert len(task_lines[1]) <= sanitize.LOG_LIMITS["message"]
    assert task_lines[1].endswith("characters cut]")
    assert task_lines[2] == "a plain line"
    [task_run] = client.list_task_runs(run.id)
    assert task_run.state.type.value == "Failed"
    message = task_run.state.message or ""
    assert len(message) <= StateData.model_fields["message"].metadata[0].max_length
    assert message.endswith("characters cut]")
