"""The docs site builds with ``mkdocs build --strict``, and its generated parts match the code."""

from __future__ import annotations

import html
import importlib
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _text(page: Path) -> str:
    """A built page's text with tags removed and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def test_site_builds_strict(site: Path) -> None:
    assert (site / "index.html").exists()
    assert (site / "how-it-works" / "index.html").exists()


def test_transition_table_is_the_code(site: Path, hook: ModuleType) -> None:
    from weir.engine.state import ALLOWED_TRANSITIONS

    page = _text(site / "concepts" / "states" / "index.html")
    for source, targets in ALLOWED_TRANSITIONS.items():
        allowed = ", ".join(sorted(t.value for t in targets)) or "nothing: it is final"
        assert re.search(
            rf"^{source.value}( \(finished\))?\s*\n?\s*{re.escape(allowed)}$", page, re.M
        ), f"The states page does not show {source.value} -> {allowed}; rebuild the docs."
    assert "| from | may move to |" in hook.transitions_markdown()


def test_every_cli_command_is_documented(site: Path, hook: ModuleType) -> None:
    page = _text(site / "concepts" / "cli" / "index.html")
    paths = [path for path, _, _ in hook.cli_commands()]
    assert {"weir", "weir server start", "weir flow-run trace"} <= set(paths)
    for path in paths:
        assert f"$ {path} --help" in page, f"`{path}` is not on the CLI page."


def test_api_reference_is_generated_from_docstrings(site: Path) -> None:
    page = _text(site / "api" / "core" / "index.html")
    for name in ("Flow", "Task", "Parameter", "case", "merge", "unmapped", "flatten"):
        assert re.search(rf"\b{name}\b", page), name
    # A docstring's own words arrive on the page.
    assert "A named DAG of tasks" in page


def test_mermaid_diagrams_are_left_for_the_browser(site: Path) -> None:
    page = (site / "how-it-works" / "index.html").read_text()
    assert page.count('class="mermaid"') >= 3
    assert "sequenceDiagram" in page and "stateDiagram-v2" in page


def test_prefect_names_on_the_migration_page_exist() -> None:
    """Every `weir....` name in the migration table imports."""
    text = (DOCS / "migrating-from-prefect-1.md").read_text()
    table = [line for line in text.splitlines() if line.startswith("| `prefect")]
    assert len(table) >= 15
    for line in table:
        for name in re.findall(r"`(weir(?:\.\w+)*)`", line.split("|")[2]):
            _resolve(name)


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(f"{dotted} does not import")


def test_docs_code_passes_lint() -> None:
    """The examples and the hook follow the code base's style (ruff check and format)."""
    paths = ["docs/examples", "docs/_hooks"]
    for args in (["check", *paths], ["format", "--check", *paths]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mermaid_blocks_avoid_characters_that_break_them() -> None:
    """In Mermaid, `;` ends a statement and backticks start markdown strings: a
    message holding either fails to draw with only "Syntax error" in the browser."""
    for page in DOCS.rglob("*.md"):
        for block in re.findall(r"```mermaid\n(.*?)```", page.read_text(), re.S):
            bad = [line for line in block.splitlines() if ";" in line or "`" in line]
            assert not bad, f"{page.relative_to(DOCS)}: {bad}"
