"""After ``import weir`` alone, its subpackages are attributes, as Prefect 1's are after
``import prefect`` (which imported them eagerly): the paths Prefect 1 code spells out."""

from __future__ import annotations

import subprocess
import sys
import textwrap

#: Prefect 1 code, with the import renamed, run in a fresh process (nothing imported yet).
SCRIPT = """
import weir
from weir import Flow, task

logger = weir.utilities.logging.get_logger("mine")  # at a module's top, as in Prefect 1's docs

@task(result=weir.engine.results.LocalResult(dir=RESULTS))
def skip():
    raise weir.engine.signals.SKIP("nothing to do")

with Flow("paths", executor=weir.executors.LocalDaskExecutor()) as flow:
    s = skip()

flow.storage = weir.storage.Local()
flow.run_config = weir.run_configs.LocalRun()
assert weir.tasks.control_flow.merge is weir.merge
assert weir.engine.state.Skipped is weir.engine.state.Skipped
assert weir.utilities.edges.unmapped is weir.unmapped
assert weir.schedules.clocks.IntervalClock
assert weir.engine.executors.LocalDaskExecutor is weir.executors.LocalDaskExecutor
from weir.engine.executors.dask import LocalDaskExecutor as ByOldPath
from weir.executors.dask import LocalDaskExecutor as ByDaskModule
assert ByOldPath is ByDaskModule is weir.executors.LocalDaskExecutor
assert weir.utilities.collections.DotDict and weir.tasks.files.Copy
assert weir.engine.serializers.CompressedSerializer and weir.tasks.secrets.EnvVarSecret
# A blanket prefect -> weir rename makes prefect.tasks.prefect weir.tasks.weir.
assert weir.tasks.weir.create_flow_run is weir.tasks.prefect.create_flow_run
assert weir.Client is weir.client.Client and weir.utilities.debug.is_serializable(1)
print(logger.name, type(flow.run().result[s]).__name__)
for missing in ("weir.nothing_here", "weir.engine.nothing_here", "weir.utilities._private"):
    try:
        eval(missing)
    except AttributeError as exc:
        print(exc)
"""


def test_prefect_1_paths_resolve_after_importing_the_package_alone(tmp_path):
    script = f"RESULTS = {str(tmp_path)!r}\n" + textwrap.dedent(SCRIPT)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [
        "weir.mine Skipped",
        "module 'weir' has no attribute 'nothing_here'",
        "module 'weir.engine' has no attribute 'nothing_here'",
        "module 'weir.utilities' has no attribute '_private'",
    ]
