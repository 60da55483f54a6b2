"""Fixtures for the docs tests: the built site, the MkDocs hook, output normalizing.

The site is built once per test session (``mkdocs build --strict`` into a
temporary directory), and every test that reads a page shares that build.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# Times, ids, process ids and host names change from run to run; the shape does not.
_VOLATILE = [
    (re.compile(r"127\.0\.0\.1:\d+"), "<loopback>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"\b(\w+)-[0-9a-f]{8}\b"), r"\1-<id>"),  # flow run names
    (re.compile(r"0x[0-9a-f]+"), "<addr>"),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d)?"), "<datetime>"),
    (re.compile(r"\d+\.\d+(e[+-]?\d+)?"), "<num>"),
    (re.compile(r"\bpid[= ]\d+"), "pid <pid>"),
    (re.compile(r"\b[0-9a-f]{8}…"), "<id>…"),
    (re.compile(r"^\[\d\d:\d\d:\d\d\]", re.M), ""),  # the agent's log times
    (re.compile(r"\bhost=[^,\s│]+"), "host=<host>"),
    # Rich tables size their columns to what they hold.
    (re.compile(r"([━─═]){2,}"), r"\1"),
    (re.compile(r"[ \t]+"), " "),
]


def normalize_output(text: str) -> str:
    """The output with volatile values replaced, and blanks collapsed."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.strip() for line in text.strip().splitlines())


@pytest.fixture(scope="session")
def normalize() -> Callable[[str], str]:
    return normalize_output


@pytest.fixture(scope="session")
def hook() -> ModuleType:
    """The MkDocs hook module (docs/_hooks/weir_docs.py), imported by path."""
    path = DOCS / "_hooks" / "weir_docs.py"
    spec = importlib.util.spec_from_file_location("weir_docs_hook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docs built with ``mkdocs build --strict``; fails with MkDocs' own output."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out
