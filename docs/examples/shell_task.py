"""ShellTask: commands as tasks, their output as results, a failure that says why."""

from __future__ import annotations

from weir import Flow, task
from weir.tasks.shell import ShellTask

# One template, several commands: the helper script runs first in the same shell.
shell = ShellTask(helper_script="cd /tmp && export GREETING=hello", return_all=True)
strict = ShellTask(name="copy", max_retries=0)


@task
def count(lines):
    return len(lines)


with Flow("shell") as flow:
    listing = shell(command="echo $GREETING from $(pwd); printf 'a\\nb\\n'")
    n = count(listing)
    copy = strict(command="echo copying; ls /no/such/dir")

state = flow.run()
print(state.result[listing].result)
print(state.result[n].result)
print(state.result[copy])
print(state.result[copy].message)
