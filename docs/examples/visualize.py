"""flow.visualize(): an HTML page drawn like the UI's run page, or Mermaid text."""

from __future__ import annotations

import tempfile
from pathlib import Path

from weir import Flow, Parameter, task


@task
def numbers(n):
    return list(range(n))


@task
def inc(x):
    if x == 3:
        raise ValueError("three is unlucky")
    return x + 1


@task
def total(xs):
    return sum(xs)


with Flow("drawn") as flow:
    total(inc.map(numbers(Parameter("n", default=5))))

state = flow.run()
with tempfile.TemporaryDirectory() as tmp:
    page = Path(tmp) / "drawn.html"
    flow.visualize(state, filename=str(page))  # open it in a browser
    print(page.read_text().startswith("<!doctype html>"))
print(flow.visualize(state, format="mermaid"))
