"""MkDocs hook: pages whose content is generated from the code at build time.

A page asks for generated content with a marker comment on a line of its own:

- ``<!-- weir:transitions -->``: the table of allowed state transitions, from
  ``weir.engine.state.ALLOWED_TRANSITIONS`` (so the states page cannot go stale);
- ``<!-- weir:cli -->``: every ``weir`` command with its ``--help`` text, from the
  Click commands themselves (a new command appears without anyone editing docs).

The functions are plain, so the docs tests call them too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

TRANSITIONS_MARKER = "<!-- weir:transitions -->"
STATE_GROUPS_MARKER = "<!-- weir:state-groups -->"
CLI_MARKER = "<!-- weir:cli -->"

#: The width the CLI help is wrapped at on the page (its code blocks fit 80).
HELP_WIDTH = 80


def transitions_markdown() -> str:
    """A Markdown table: for each state type, the types a run may move to next."""
    from weir.state_types import ALLOWED_TRANSITIONS, FINISHED_TYPES

    lines = ["| from | may move to |", "| --- | --- |"]
    for source, targets in ALLOWED_TRANSITIONS.items():
        names = sorted(t.value for t in targets)
        allowed = ", ".join(f"`{n}`" for n in names) if names else "nothing: it is final"
        finished = " (finished)" if source in FINISHED_TYPES else ""
        lines.append(f"| `{source.value}`{finished} | {allowed} |")
    return "\n".join(lines)


def state_groups_markdown() -> str:
    """A Markdown table: each named group of state types and its members."""
    from weir import state_types

    lines = ["| group | states |", "| --- | --- |"]
    for name in sorted(n for n in state_types.__all__ if n.endswith("_TYPES")):
        members = sorted(t.value for t in getattr(state_types, name))
        lines.append(f"| `{name}` | {', '.join(f'`{m}`' for m in members)} |")
    return "\n".join(lines)


def cli_commands() -> Iterator[tuple[str, click.Command, click.Context]]:
    """Every command and group under ``weir``, depth first, with its help context."""
    from weir.cli.main import cli

    def walk(
        command: click.Command, ctx: click.Context
    ) -> Iterator[tuple[str, click.Command, click.Context]]:
        yield ctx.command_path, command, ctx
        if isinstance(command, click.Group):
            for name in sorted(command.list_commands(ctx)):
                sub = command.get_command(ctx, name)
                if sub is None or sub.hidden:
                    continue
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))

    settings = {"terminal_width": HELP_WIDTH, "max_content_width": HELP_WIDTH}
    root = click.Context(cli, info_name="weir", **{**cli.context_settings, **settings})
    yield from walk(cli, root)


def cli_markdown() -> str:
    """One section per command: its path as a heading and its ``--help`` output."""
    parts: list[str] = []
    for path, command, ctx in cli_commands():
        depth = min(path.count(" ") + 2, 6)
        summary = command.get_short_help_str(limit=HELP_WIDTH)
        parts.append(f"{'#' * depth} `{path}`\n")
        if summary:
            parts.append(f"{summary}\n")
        parts.append(f"```text\n$ {path} --help\n{command.get_help(ctx)}\n```\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    """Replace each marker with the content it stands for."""
    if TRANSITIONS_MARKER in markdown:
        markdown = markdown.replace(TRANSITIONS_MARKER, transitions_markdown())
    if STATE_GROUPS_MARKER in markdown:
        markdown = markdown.replace(STATE_GROUPS_MARKER, state_groups_markdown())
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_markdown())
    return markdown
