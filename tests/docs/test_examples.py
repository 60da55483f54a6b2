"""Every code example in the docs runs, and prints what the page shows.

Examples live in ``docs/examples/NAME.py`` and pages include them with
pymdownx.snippets; beside each is ``NAME.out``, its output as the page shows
it. This test runs each script in a fresh process (its own ``WEIR_HOME``) and
compares what it prints with ``NAME.out``: exactly, or, for an example whose
first lines hold ``# docs: output varies``, as the same lines in any order after
replacing times, ids and other volatile values (see ``normalize_output``).
After changing an example, rewrite its ``.out`` with::

    WEIR_DOCS_UPDATE=1 python -m pytest tests/docs/test_examples.py

An example whose first lines hold ``# docs: needs a server`` gets a real
``weir server start`` (SQLite in a temporary directory) through ``WEIR_API_URL``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
NEEDS_SERVER = "# docs: needs a server"
VARIES = "# docs: output varies"
UPDATE = os.environ.get("WEIR_DOCS_UPDATE") == "1"


def _marked(script: Path, marker: str) -> bool:
    return marker in script.read_text().splitlines()[:5]


def _exact(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``weir server start`` on a free loopback port, SQLite in a temp dir."""
    home = tmp_path_factory.mktemp("server-home")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    env = {**os.environ, "WEIR_HOME": str(home)}
    env.pop("WEIR_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "weir", "server", "start", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                _, err = proc.communicate()
                pytest.fail(f"weir server start did not come up:\n{err.decode()}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_example(script: Path, home: Path, api_url: str | None = None) -> str:
    env = {**os.environ, "WEIR_HOME": str(home), "PYTHONHASHSEED": "0"}
    env.pop("WEIR_CHECKPOINTING", None)
    if api_url is not None:
        env["WEIR_API_URL"] = api_url
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_there_are_examples() -> None:
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_prints_what_the_docs_show(
    script: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    normalize: Callable[[str], str],
) -> None:
    api_url = request.getfixturevalue("server_url") if _marked(script, NEEDS_SERVER) else None
    printed = run_example(script, tmp_path, api_url)
    assert printed.strip(), f"{script.name} printed nothing; an example shows its result."
    expected = script.with_suffix(".out")
    if UPDATE:
        expected.write_text(printed)
    assert expected.exists(), f"{expected.name} is missing; run with WEIR_DOCS_UPDATE=1."
    if _marked(script, VARIES):
        # Rows of the server's tables may come in another order from run to run.
        got, want = (sorted(normalize(t).splitlines()) for t in (printed, expected.read_text()))
        assert got == want
    else:
        assert _exact(printed) == _exact(expected.read_text())


#: Pages written alongside the execution path by their own authors; their code
#: blocks are theirs to keep runnable.
OWN_PAGES_OF_OTHERS = {"concepts/ui.md"}


def _pages() -> dict[Path, str]:
    return {
        p: p.read_text()
        for p in DOCS.rglob("*.md")
        if str(p.relative_to(DOCS)) not in OWN_PAGES_OF_OTHERS
    }


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_every_example_is_on_a_page(script: Path) -> None:
    name = f"examples/{script.name}"
    assert any(name in text for text in _pages().values()), f"No page includes {name}."


def test_pages_have_no_inline_python_blocks() -> None:
    """Python on a page comes from an example file, so it is run (a fenced block may
    hold only a snippet include)."""
    block = re.compile(r"^```(?:python|py)\n(.*?)^```", re.S | re.M)
    offenders = []
    for page, text in _pages().items():
        for body in block.findall(text):
            if any(line.strip() and not line.startswith("--8<--") for line in body.splitlines()):
                offenders.append(str(page.relative_to(DOCS)))
    assert not offenders, f"Inline Python (move it to docs/examples/): {sorted(set(offenders))}"
