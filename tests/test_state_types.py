"""The state vocabulary is defined once, in the leaf ``weir.state_types``.

Four copies of "which states are finished / waiting / failed" once disagreed (the
engine's waiting states held Paused, the server's did not). These tests fail if a
list of states is written out anywhere else again, in Python or in the UI's JS.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from weir import state_types
from weir.engine import state as engine_state
from weir.state_types import ALLOWED_TRANSITIONS, StateType

SRC = Path(state_types.__file__).parent
STATIC = SRC / "server" / "ui" / "static"
NAMES = {t.value for t in StateType}
MEMBERS = {t.name for t in StateType}


def _state_items(node: ast.AST) -> int:
    """How many elements of a literal collection name a state."""
    if isinstance(node, ast.Call) and node.args:  # frozenset({...}), set([...]), tuple(...)
        return _state_items(node.args[0])
    if not isinstance(node, (ast.Set, ast.List, ast.Tuple)):
        return 0
    count = 0
    for item in node.elts:
        if isinstance(item, ast.Constant) and item.value in NAMES:
            count += 1
        elif isinstance(item, ast.Attribute) and item.attr in MEMBERS:
            count += 1
    return count


def test_no_python_module_lists_states_but_the_vocabulary():
    copies = []
    for path in sorted(SRC.rglob("*.py")):
        if path == Path(state_types.__file__):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exports = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        }
        for node in ast.walk(tree):
            if id(node) not in exports and _state_items(node) >= 2:
                copies.append(f"{path.relative_to(SRC)}:{node.lineno}")  # type: ignore[attr-defined]
    assert copies == [], "name a group from weir.state_types instead of listing states"


def test_no_ui_script_lists_states():
    quoted = "|".join(sorted(NAMES))
    literal_list = re.compile(r"\[[^\[\]]*\]", re.S)
    name = re.compile(rf"[\"'](?:{quoted})[\"']")
    copies = [
        f"{path.name}: {found.group(0)[:60]}"
        for path in sorted(STATIC.glob("*.js"))
        for found in literal_list.finditer(path.read_text(encoding="utf-8"))
        if len(name.findall(found.group(0))) >= 2
    ]
    assert copies == [], "use WEIR_STATE_TYPES (W.FINISHED, W.FAILED, ...) instead"


def test_the_ui_is_served_the_vocabulary_itself():
    from weir.server.app import create_app
    from weir.server.settings import ServerSettings
    from weir.server.testing import temporary_database

    with temporary_database("sqlite") as db:
        app = create_app(ServerSettings.from_env(), db=db, migrate=False)
        with TestClient(app, base_url="http://localhost") as client:
            script = client.get("/ui/state_types.js")
            page = client.get("/")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    body = script.text.split("Object.freeze(", 1)[1].rsplit(");", 1)[0]
    assert json.loads(body) == state_types.groups()
    # Loaded before the scripts that use it.
    assert page.text.index("/ui/state_types.js") < page.text.index("/weir.js")


def test_the_groups_mean_what_prefect_1_means():
    """Each group is the set of StateTypes whose engine State class passes the check."""
    classes = {cls.type: cls for cls in _state_classes()}
    assert set(classes) == set(StateType)

    def where(check: str) -> frozenset[StateType]:
        return frozenset(t for t, cls in classes.items() if getattr(cls(), check)())

    assert state_types.PENDING_TYPES == where("is_pending")
    assert state_types.SCHEDULED_TYPES == where("is_scheduled")
    assert state_types.RUNNING_TYPES == where("is_running")
    assert state_types.SUCCESSFUL_TYPES == where("is_successful")
    assert state_types.FAILED_TYPES == where("is_failed")
    assert state_types.FINISHED_TYPES == where("is_finished") - {StateType.LOOPED}
    # A Paused run waits for a person, so no agent claims it.
    assert state_types.CLAIMABLE_TYPES == state_types.PENDING_TYPES - {StateType.PAUSED}
    # Only runs that ended without success may be restarted, and they may go nowhere else.
    for kind in StateType:
        restartable = ALLOWED_TRANSITIONS[kind] == {StateType.SCHEDULED, StateType.PENDING}
        assert restartable == (kind in state_types.RESTARTABLE_TYPES)


def _state_classes() -> list[type[engine_state.State]]:
    found, todo = [], [engine_state.State]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__ == engine_state.__name__ and "type" in vars(cls):
            found.append(cls)
    return found


def test_the_engine_and_the_vocabulary_are_one():
    for name in state_types.__all__:
        if hasattr(engine_state, name):
            assert getattr(engine_state, name) is getattr(state_types, name)


def _weir_imports(module: str) -> set[str]:
    path = SRC.parent / (module.replace(".", "/") + ".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "weir"}


def test_the_vocabulary_is_a_leaf():
    """It imports nothing of weir but the exceptions, which import nothing of weir."""
    assert _weir_imports("weir.state_types") == {"weir.exceptions"}
    assert _weir_imports("weir.exceptions") == set()


def test_a_state_named_in_any_case_is_that_state():
    # People type them: `?state=failed`, `FAILED`. No two states differ only in case.
    from weir.state_types import StateType

    assert StateType("failed") is StateType("FAILED") is StateType.FAILED
    assert StateType("triggerfailed") is StateType.TRIGGER_FAILED
    assert len({s.value.lower() for s in StateType}) == len(StateType)
    with pytest.raises(ValueError, match="'nope' is not a valid StateType"):
        StateType("nope")
