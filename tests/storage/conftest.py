"""The ``script`` fixture: a flow script in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import write_script


@pytest.fixture
def script(tmp_path: Path) -> Path:
    return write_script(tmp_path / "flows" / "etl_flows.py")
