"""weir.core.serialize: the JSON a flow sends to the server."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from weir import Flow, Parameter, task, triggers
from weir.exceptions import FlowValidationError


@task
def extract(n: int) -> list[int]:
    return list(range(n))


@task(
    max_retries=2,
    retry_delay=dt.timedelta(seconds=3),
    timeout=10,
    trigger=triggers.all_finished,
    skip_on_upstream_skip=False,
    tags=["b", "a"],
    cache_for=dt.timedelta(minutes=1),
    checkpoint=True,
)
def transform(x: int) -> int:
    return x


@task
def load(data: list[int]) -> int:
    return sum(data)


def build() -> Flow:
    with Flow("etl") as flow:
        n = Parameter("n", default=3)
        Parameter("unused", required=True)  # not bound to anything: not in the flow
        data = extract(n)
        mapped = transform.map(data)
        load(mapped)
        load(data)
    return flow


class TestSerialize:
    def test_is_json_able_and_round_trips(self) -> None:
        data = build().serialize()
        assert json.loads(json.dumps(data)) == data

    def test_same_script_gives_same_output_and_slugs(self) -> None:
        first, second = build(), build()
        assert first.serialize() == second.serialize()
        assert sorted(first.slugs.values()) == sorted(second.slugs.values())
        assert sorted(first.slugs.values()) == ["extract-1", "load-1", "load-2", "n", "transform-1"]

    def test_tasks_in_sorted_order_with_options(self) -> None:
        data = build().serialize()
        assert [t["slug"] for t in data["tasks"]] == [
            "n",
            "extract-1",
            "transform-1",
            "load-1",
            "load-2",
        ]
        tasks = {t["slug"]: t for t in data["tasks"]}
        assert tasks["transform-1"] == {
            "slug": "transform-1",
            "name": "transform",
            "type": "weir.core.task.TypedFunctionTask",
            "max_retries": 2,
            "retry_delay": 3.0,
            "timeout": 10.0,
            "trigger": "all_finished",
            "skip_on_upstream_skip": False,
            "tags": ["a", "b"],
            "cache_for": 60.0,
            "checkpoint": True,
            "is_parameter": False,
            "mapped": True,
            "is_reference": False,
        }
        assert tasks["extract-1"]["trigger"] == "all_successful"
        assert tasks["n"]["is_parameter"] is True
        assert tasks["load-1"]["is_reference"] and tasks["load-2"]["is_reference"]

    def test_edges_carry_keys_and_mapping(self) -> None:
        data = build().serialize()
        assert data["edges"] == [
            {"upstream": "n", "downstream": "extract-1", "key": "n", "mapped": False},
            {"upstream": "extract-1", "downstream": "transform-1", "key": "x", "mapped": True},
            {"upstream": "transform-1", "downstream": "load-1", "key": "data", "mapped": False},
            {"upstream": "extract-1", "downstream": "load-2", "key": "data", "mapped": False},
        ]

    def test_parameters_with_defaults(self) -> None:
        with Flow("p") as flow:
            a = Parameter("a", default={"k": [1]})
            b = Parameter("b")
            extract(a)
            extract(b)
        assert build().serialize()["parameters"] == [
            {"name": "n", "slug": "n", "default": 3, "required": False}
        ]
        assert flow.serialize()["parameters"] == [
            {"name": "a", "slug": "a", "default": {"k": [1]}, "required": False},
            {"name": "b", "slug": "b", "default": None, "required": True},
        ]

    def test_reference_tasks_and_schedule(self) -> None:
        flow = build()
        data = flow.serialize()
        assert data["name"] == "etl"
        assert data["reference_tasks"] == ["load-1", "load-2"]
        assert data["schedule"] is None
        flow.set_reference_tasks([flow.task_by_slug("extract-1")])
        assert flow.serialize()["reference_tasks"] == ["extract-1"]

    def test_schedule_is_serialized(self) -> None:
        from weir.schedules import IntervalClock, Schedule

        flow = build()
        flow.schedule = Schedule(clocks=[IntervalClock(dt.timedelta(hours=1))])
        data = flow.serialize()
        assert data["schedule"] == flow.schedule.serialize()
        json.dumps(data)

    def test_non_json_parameter_default_names_the_parameter(self) -> None:
        with Flow("f") as flow:
            extract(Parameter("when", default=dt.date(2024, 1, 1)))
        with pytest.raises(FlowValidationError, match=r"Parameter 'when' \(date\).*JSON"):
            flow.serialize()

    def test_invalid_flow_is_refused(self) -> None:
        flow = Flow("f")
        flow.add_task(load.copy())
        with pytest.raises(FlowValidationError, match=r"'load'.*missing"):
            flow.serialize()

    def test_slugs_count_per_name(self) -> None:
        def slugs(flow: Flow) -> list[Any]:
            return [t["slug"] for t in flow.serialize()["tasks"]]

        with Flow("f") as flow:
            for i in range(3):
                extract(i)
        assert slugs(flow) == ["extract-1", "extract-2", "extract-3"]


def test_serialized_hash_is_the_same_for_the_same_flow_and_changes_with_it() -> None:
    # Prefect 1: flow.register(idempotency_key=flow.serialized_hash()).
    first, again = build().serialized_hash(), build().serialized_hash()
    assert first == again and len(first) == 64
    changed = build()
    changed.add_task(Parameter("another", default=1))
    assert changed.serialized_hash() != first
