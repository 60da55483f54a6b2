"""The concept page's example runs and prints what the page says it prints."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

PAGE = Path(__file__).parents[2] / "docs" / "concepts" / "schedules.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), flags=re.S)


def test_the_example_prints_what_its_comments_say():
    (code,) = blocks("python")
    expected = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(PAGE), "exec"), {})
    assert printed.getvalue().splitlines() == expected


def test_the_json_example_is_a_schedule():
    from weir.schedules import Schedule

    (text,) = blocks("json")
    data = json.loads(text)
    assert Schedule.deserialize(data).serialize() == data
