"""Checkpoints, targets, and caches that outlive a process."""

from __future__ import annotations

import datetime
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from weir import Flow, Parameter, task
from weir.engine.cache import CACHE
from weir.engine.results import LocalResult


@pytest.fixture(autouse=True)
def weir_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("WEIR_HOME", str(home))
    monkeypatch.delenv("WEIR_CHECKPOINTING", raising=False)
    CACHE.clear()
    return home


def test_checkpointed_result_is_written_and_located(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="{flow_name}/{task_name}-{x}.pkl")

    @task(checkpoint=True, result=result)
    def double(x: int) -> int:
        return 2 * x

    with Flow("ck") as flow:
        out = double(Parameter("x", default=4))
    state = flow.run()
    loc = state.result[out].location
    assert loc == str(tmp_path / "ck" / "double-4.pkl")
    assert result.read(loc).value == 8


def test_no_checkpoint_without_asking(tmp_path: Path) -> None:
    @task(result=LocalResult(dir=tmp_path))
    def one() -> int:
        return 1

    with Flow("plain") as flow:
        out = one()
    assert flow.run().result[out].location is None
    assert list(tmp_path.iterdir()) == []


def test_flow_level_and_environment_checkpointing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @task
    def one() -> int:
        return 1

    with Flow("f", result=LocalResult(dir=tmp_path), checkpoint=True) as flow:
        out = one()
    assert flow.run().result[out].location is not None

    with Flow("g", result=LocalResult(dir=tmp_path)) as env_flow:
        out2 = one()
    monkeypatch.setenv("WEIR_CHECKPOINTING", "true")
    assert env_flow.run().result[out2].location is not None


def test_the_context_switches_checkpointing_as_in_prefect_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from weir import context

    @task(result=LocalResult(dir=tmp_path))
    def one() -> int:
        return 1

    with Flow("switched") as flow:
        out = one()
    with context(checkpointing=True):
        assert flow.run().result[out].location is not None
    assert flow.run(context={"checkpointing": True}).result[out].location is not None
    assert flow.run().result[out].location is None
    monkeypatch.setenv("WEIR_CHECKPOINTING", "true")
    assert flow.run(context={"checkpointing": False}).result[out].location is None


def test_target_skips_the_run_when_the_result_exists(tmp_path: Path) -> None:
    calls: list[int] = []

    @task(target="{task_name}-{x}.bin", result=LocalResult(dir=tmp_path))
    def fetch(x: int) -> int:
        calls.append(x)
        return x + 1

    with Flow("t") as flow:
        out = fetch(Parameter("x", default=1))
    first = flow.run()
    assert first.result[out].is_successful() and not first.result[out].is_cached()
    second = flow.run()
    assert second.result[out].is_cached()
    assert second.result[out].result == 2
    assert calls == [1]
    third = flow.run(parameters={"x": 2})  # another target: runs
    assert third.result[out].result == 3
    assert calls == [1, 2]


def test_target_templates_take_the_task_s_inputs_and_any_context_key(tmp_path: Path) -> None:
    # Prefect 1 formats a target with the parameters, the whole context and the task's
    # own inputs (a constant here, not a Parameter of the same name).
    calls: list[str] = []

    @task(target="{task_name}/{day}.bin", result=LocalResult(dir=tmp_path))
    def load(day: str) -> str:
        calls.append(day)
        return day

    where = "{flow_name}/{task_full_name}/{yesterday_nodash}"

    @task(target=where, result=LocalResult(dir=tmp_path))
    def other() -> int:
        return 1

    with Flow("t") as flow:
        a = load("2024-01-01")
        b = other()
    when = datetime.datetime(2024, 3, 2, tzinfo=datetime.timezone.utc)
    first = flow.run(context={"date": when})
    assert first.result[a].is_successful() and first.result[b].is_successful()
    assert (tmp_path / "load" / "2024-01-01.bin").exists()
    assert (tmp_path / "t" / "other" / "20240301").exists()
    again = flow.run(context={"date": when})
    assert again.result[a].is_cached() and again.result[b].is_cached()
    assert calls == ["2024-01-01"]


def test_cache_for_reuses_results_within_a_process() -> None:
    calls: list[int] = []

    @task(cache_for=datetime.timedelta(minutes=5))
    def slow(x: int) -> int:
        calls.append(x)
        return x * 10

    with Flow("c") as flow:
        out = slow(Parameter("x", default=1))
    assert flow.run().result[out].result == 10
    again = flow.run()
    assert again.result[out].is_cached() and again.result[out].result == 10
    assert calls == [1]


def test_a_caches_dict_in_the_context_is_the_run_s_cache(tmp_path: Path) -> None:
    # Prefect 1: ``with context(caches={}):`` starts from an empty cache (test suites
    # use it so that one test's cached results do not leak into the next).
    from weir import context

    calls: list[int] = []

    @task(cache_for=datetime.timedelta(minutes=5), checkpoint=True)
    def slow(x: int) -> int:
        calls.append(x)
        return x * 10

    with Flow("caches") as flow:
        out = slow(Parameter("x", default=1))
    assert flow.run().result[out].result == 10  # cached in the process's cache
    mine: dict = {}
    with context(caches=mine):
        assert flow.run().result[out].result == 10
        assert calls == [1, 1]  # ran again: the run's cache was empty
        assert flow.run().result[out].result == 10
    assert calls == [1, 1] and list(mine) == ["caches/slow-1"]
    assert flow.run(context={"caches": {}}).result[out].result == 10
    assert calls == [1, 1, 1]


SCRIPT = """
import datetime, sys
from pathlib import Path
from weir import Flow, Parameter, task
from weir.engine.results import LocalResult
from weir.engine.cache_validators import all_inputs

counter = Path(sys.argv[1])

@task(cache_for=datetime.timedelta(hours=1), cache_validator=all_inputs,
      checkpoint=True, result=LocalResult(dir=sys.argv[2]))
def expensive(x):
    counter.write_text(counter.read_text() + "x")
    return x * 100

with Flow("persisted") as flow:
    out = expensive(Parameter("x", default=1))

state = flow.run(parameters={"x": int(sys.argv[3])})
print(type(state.result[out]).__name__, state.result[out].result)
"""


def test_checkpointed_cache_is_reused_by_another_process(tmp_path: Path, weir_home: Path) -> None:
    script = tmp_path / "flow.py"
    script.write_text(textwrap.dedent(SCRIPT))
    counter = tmp_path / "calls"
    counter.write_text("")
    results = tmp_path / "results"

    def run(x: int) -> str:
        proc = subprocess.run(
            [sys.executable, str(script), str(counter), str(results), str(x)],
            capture_output=True,
            text=True,
            env={**__import__("os").environ, "WEIR_HOME": str(weir_home)},
            check=True,
        )
        return proc.stdout.strip()

    assert run(1) == "Cached 100"  # computed, then recorded as a cache entry
    assert run(1) == "Cached 100"  # read back in a new process
    assert counter.read_text() == "x"
    assert run(2) == "Cached 200"  # other inputs: computed again
    assert counter.read_text() == "xx"


def test_small_results_travel_inline_and_big_ones_go_to_files(weir_home: Path) -> None:
    from weir.engine.checkpoint import INLINE_LIMIT
    from weir.engine.results import Result

    @task(checkpoint=True)
    def small() -> int:
        return 42

    @task(checkpoint=True)
    def big() -> bytes:
        return b"x" * (INLINE_LIMIT * 2)

    with Flow("sizes") as flow:
        s, b = small(), big()
    state = flow.run()
    small_loc, big_loc = state.result[s].location, state.result[b].location
    assert small_loc.startswith("inline:")
    assert Result().read(small_loc).value == 42
    assert not big_loc.startswith("inline:")
    assert Path(big_loc).is_file() and Path(big_loc).is_relative_to(weir_home)
    assert Result().read(big_loc).value == b"x" * (INLINE_LIMIT * 2)


def test_a_result_the_user_chose_is_always_a_file(tmp_path: Path) -> None:
    @task(checkpoint=True, result=LocalResult(dir=tmp_path))
    def small() -> int:
        return 1

    with Flow("chosen") as flow:
        s = small()
    location = flow.run().result[s].location
    assert Path(location).is_file() and Path(location).parent == tmp_path


def test_default_results_follow_weir_home_as_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from weir.engine.checkpoint import INLINE_LIMIT

    @task(checkpoint=True)
    def big() -> bytes:
        return b"x" * (INLINE_LIMIT * 2)

    def written_to() -> Path:
        with Flow("homes") as flow:
            b = big()
        location = Path(flow.run().result[b].location)
        assert location.is_file()
        return location

    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "a"))
    assert written_to().is_relative_to(tmp_path / "a" / "results")
    monkeypatch.setenv("WEIR_HOME", str(tmp_path / "b"))
    assert written_to().is_relative_to(tmp_path / "b" / "results")
    monkeypatch.delenv("WEIR_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert written_to().is_relative_to(tmp_path / "user" / ".weir" / "results")


def test_a_result_that_cannot_be_checkpointed_fails_the_task_saying_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The task ran: its failure says the checkpoint failed, not that the executor could
    # not run it, and the run's log says it too. (As under an agent: checkpointing on.)
    import threading

    from weir.engine.reporter import InMemoryReporter

    monkeypatch.setenv("WEIR_CHECKPOINTING", "true")

    @task
    def make_lock() -> object:
        return threading.Lock()

    with Flow("unpicklable") as flow:
        out = make_lock()
    reporter = InMemoryReporter()
    state = flow.run(reporter=reporter).result[out]
    assert state.is_failed()
    assert (state.message or "").startswith(
        "Task 'make_lock' ran, but its result could not be checkpointed: PickleSerializer"
    )
    assert any("could not be checkpointed" in r["message"] for _, _, r in reporter.logs)
