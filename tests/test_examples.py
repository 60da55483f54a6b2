"""The example flows run, and `weir demo` (local runs, no server) shows them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from weir.cli.main import cli
from weir.storage.scripts import flows_in_script

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))


def test_there_are_at_least_three_examples() -> None:
    assert len(SCRIPTS) >= 3


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_flows_succeed(script: Path) -> None:
    flows = flows_in_script(script)
    assert flows, f"{script} defines no flow"
    for flow in flows.values():
        state = flow.run(run_on_schedule=False)
        assert state.is_successful(), (flow.name, state, state.result)


def test_etl_example_retries_and_maps() -> None:
    flow = flows_in_script(EXAMPLES / "etl.py")["etl"]
    state = flow.run(parameters={"n": 4, "failure_rate": 1.0})
    by_name = {t.name: s for t, s in state.result.items()}
    assert by_name["extract"].is_successful()
    assert by_name["transform"].is_mapped()
    assert len(by_name["transform"].map_states) == 4
    assert by_name["load"].result == 4


def test_demo_command_prints_every_flow() -> None:
    result = CliRunner().invoke(cli, ["demo", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    for name in ("etl", "branching", "imperative"):
        assert f"flow {name}" in result.output
    assert "Success" in result.output
