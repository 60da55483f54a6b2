"""The CLI imports a command's module only when that command is used."""

from __future__ import annotations

import subprocess
import sys

from weir.cli.commands import COMMANDS, all_commands, load
from weir.cli.main import cli


def test_each_listed_name_is_its_commands_own_name():
    assert [command.name for command in all_commands()] == list(COMMANDS)
    assert load("no-such-command") is None


def test_help_lists_every_command():
    ctx = cli.make_context("weir", ["--help"], resilient_parsing=True)
    assert cli.list_commands(ctx) == sorted(COMMANDS)


def test_starting_the_cli_loads_no_command_module():
    code = (
        "import sys\nimport weir.cli.main\n"
        "print(sorted(m for m in sys.modules if m.startswith('weir.cli')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['weir.cli', 'weir.cli.commands', 'weir.cli.main']"
