"""Flow runs named as people name them: a full id, a short id or the run's name.

A short id is the first hex digits of the id (at least four), as git takes short
hashes; a name is the run's whole name (``etl-c1d1c669``). Names are not unique,
so both lookups may find several runs: then the command stops and lists them.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import click

#: How many matches to list when a reference is ambiguous.
SHOWN = 10
_SHORT_ID = re.compile(r"^[0-9a-fA-F-]{4,36}$")


def resolve_flow_run(client: Any, ref: str) -> uuid.UUID:
    """The id of the one run ``ref`` names, or a ClickException saying why not."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        pass
    found: dict[uuid.UUID, Any] = {}
    if _SHORT_ID.match(ref):
        for run in client.list_flow_runs(id_prefix=ref, limit=SHOWN + 1):
            found[run.id] = run
    for run in client.list_flow_runs(name=ref, limit=SHOWN + 1):
        found[run.id] = run
    if len(found) == 1:
        return next(iter(found))
    if not found:
        raise click.ClickException(
            f"No flow run has an id starting with {ref!r} or the name {ref!r}; "
            "`weir flow-run ls` lists runs with their ids."
        )
    listed = "\n".join(
        f"  {run.id}  {run.name}  ({run.flow_name}, {run.state.type.value})"
        for run in list(found.values())[:SHOWN]
    )
    more = "at least " if len(found) > SHOWN else ""
    raise click.ClickException(
        f"{ref!r} names {more}{len(found)} flow runs; give more of the id:\n{listed}"
    )
