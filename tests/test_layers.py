"""Layers point down (docs/how-it-works.md, "Layers"): checked on the source with ast,
and on what a fresh process really loads.

tests/core/test_public_api.py checks that the graph layer imports neither the engine
nor the task library; these tests check the rest of the rule.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import weir

SRC = Path(weir.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, top_level_only: bool) -> Iterator[str]:
    """The modules ``path`` imports; with ``top_level_only``, only those imported when
    it is (not inside a function, nor under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None

    def walk(nodes: list[ast.stmt]) -> Iterator[ast.stmt]:
        for node in nodes:
            yield node
            if top_level_only:
                if isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                    yield from walk(node.body + node.orelse)
                elif isinstance(node, ast.Try):
                    yield from walk(node.body + node.orelse + node.finalbody)

    nodes = walk(tree.body) if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and package:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1]])
                base = f"{base}.{node.module}" if node.module else base
            yield base
            # `from weir.core import flow` imports the module weir.core.flow.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _modules(package: str) -> dict[str, Path]:
    root = SRC.parent / package.replace(".", "/")
    return {_module_name(p): p for p in sorted(root.rglob("*.py"))}


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


def _importers(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{name} imports {imported}"
        for name, path in _modules(package).items()
        for imported in set(_imports(path, top_level_only=False))
        if _within(imported, forbidden)
    )


def test_the_server_imports_nothing_of_the_engine_the_client_or_the_cli():
    assert _importers("weir.server", ("weir.engine", "weir.client", "weir.cli")) == []


def test_the_client_does_not_import_the_server():
    assert _importers("weir.client", ("weir.server",)) == []


def test_the_agent_imports_neither_the_cli_nor_the_server():
    # A spare flow-run process (agent/warm.py) loads the execution layer, not the CLI.
    assert _importers("weir.agent", ("weir.cli", "weir.server")) == []


def test_the_engine_imports_nothing_above_it():
    above = ("weir.server", "weir.client", "weir.cli", "weir.agent", "weir.execution")
    assert _importers("weir.engine", above) == []


def test_no_import_cycle_inside_core():
    """Among the imports a module of weir.core runs when it is imported, no cycle."""
    modules = _modules("weir.core")
    graph = {
        name: {m for m in _imports(path, top_level_only=True) if m in modules and m != name}
        for name, path in modules.items()
    }
    # A package imports its own modules to re-export them; that is no cycle.
    for name in graph:
        for other in graph:
            if other.startswith(f"{name}."):
                graph[other].discard(name)
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def _loaded_by(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_importing_the_server_app_loads_no_runner_executor_or_migration():
    loaded = _loaded_by("import weir.server.app")
    assert "weir.server.app" in loaded
    unwanted = sorted(
        name
        for name in loaded
        if _within(
            name,
            (
                "weir.engine.flow_runner",
                "weir.engine.task_runner",
                "weir.executors",
                "weir.cli",
                "weir.client",
                "weir.agent",
                "dask",
                "distributed",
                "cloudpickle",
                "alembic",
                # Nor the graph layer, nor schedules (read when a flow with one comes).
                "weir.core",
                "weir.schedules",
                "croniter",
                "dateutil",
                # The PostgreSQL dialect is loaded by a PostgreSQL engine only.
                "sqlalchemy.dialects.postgresql",
            ),
        )
    )
    assert unwanted == []


def test_the_server_start_command_loads_no_rich():
    # `weir server start` prints plain lines; importing rich was 25 ms of its start.
    loaded = _loaded_by("import weir.cli.main, weir.cli.server, weir.server.app")
    assert "weir.cli.server" in loaded
    assert not any(_within(name, ("rich",)) for name in loaded)


def test_importing_weir_loads_no_engine_until_a_flow_runs():
    loaded = _loaded_by("import weir")
    assert not any(_within(name, ("weir.engine", "weir.executors")) for name in loaded)
    # Nor the graph layer: the package plugs the engine in through weir.wiring.
    assert not any(_within(name, ("weir.core",)) for name in loaded)
    ran = _loaded_by(
        "from weir import Flow, task\n"
        "with Flow('f') as f:\n    task(lambda: 1)()\n"
        "assert f.run().is_successful()"
    )
    assert "weir.engine.flow_runner" in ran


def test_a_plain_run_loads_no_results_or_filesystems():
    # Every task reads its default cache validator; results (and fsspec under them) are
    # for runs that checkpoint or cache, and cost a first run tens of milliseconds.
    ran = _loaded_by(
        "from weir import Flow, task\n"
        "with Flow('f') as f:\n    task(lambda x: x).map([1, 2])\n"
        "assert f.run().is_successful()"
    )
    assert "weir.engine.cache_validators" in ran
    assert not any(_within(name, ("weir.engine.results", "fsspec")) for name in ran)
