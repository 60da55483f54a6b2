"""The concept page's example runs and prints what the page says it prints."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs"
PAGE = DOCS / "concepts" / "schedules.md"
EXAMPLE = DOCS / "examples" / "schedules_basics.py"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), flags=re.S)


def test_the_example_prints_what_the_page_shows():
    # The page includes the example file and its recorded output.
    assert '--8<-- "examples/schedules_basics.py"' in PAGE.read_text()
    code = EXAMPLE.read_text()
    expected = EXAMPLE.with_suffix(".out").read_text().splitlines()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(EXAMPLE), "exec"), {"__name__": "__main__"})
    assert printed.getvalue().splitlines() == expected


def test_the_json_examples_are_schedules():
    from weir.schedules import Schedule

    texts = blocks("json")
    assert len(texts) == 2  # an interval clock with rules, and an RRuleClock
    for text in texts:
        data = json.loads(text)
        assert Schedule.deserialize(data).serialize() == data
