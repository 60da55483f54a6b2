"""Flow scripts written to temporary directories, as users would write them."""

from __future__ import annotations

import textwrap
from pathlib import Path

SCRIPT = """
from weir import Flow, Parameter, task


@task
def inc(x):
    return x + {step}


with Flow("etl") as flow:
    n = Parameter("n", default=1)
    inc(inc(n))

with Flow("report") as report:
    inc(10)
"""


def write_script(path: Path, step: int = 1, extra: str = "") -> Path:
    """A script defining flows 'etl' and 'report'; ``step`` changes a task body only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(SCRIPT).format(step=step) + textwrap.dedent(extra))
    return path
